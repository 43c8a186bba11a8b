"""A user's whole trip in a real browser: log in, click a workspace, see the desktop drawn, delete."""

import io

import pytest
from PIL import Image as PillowImage
from PIL import ImageStat
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from apps.accounts.services import api_key_create
from apps.sessions.api.public.formats import user_public_id
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session
from apps.sessions.services import session_destroy
from tests.e2e.conftest import COUNT_DRAWN_PIXELS, log_in
from tests.personas import ALICE, PASSWORDS
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
COUNT_DESKTOP_SOCKETS = """window.desktopSocketsOpened = 0;
const NativeWebSocket = WebSocket;
window.WebSocket = function (url, protocols) {
  if (String(url).endsWith("/vnc/websockify")) window.desktopSocketsOpened++;
  return new NativeWebSocket(url, protocols);
};
window.WebSocket.prototype = NativeWebSocket.prototype;
for (const state of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) window.WebSocket[state] = NativeWebSocket[state];"""


def test_user_launches_the_desktop_sees_it_drawn_and_deletes_it(page, platform, alice, desktop_image, tmp_path):
    log_in(page, platform, ALICE, PASSWORDS[ALICE])
    page.fill("#workspace-search", "desktop")
    page.click("button[aria-label='Launch Desktop']")
    page.wait_for_url("**/session/*/")
    page.wait_for_selector("#session-desktop:not([hidden])", timeout=120_000)
    try:
        page.locator("#session-desktop canvas").first.wait_for(timeout=20_000)
    except PlaywrightTimeout:
        # Docker adding a container's network interface can make Chromium abort in-flight loads with
        # ERR_NETWORK_CHANGED; a user would reload, and so does the test, once.
        page.reload()
        page.locator("#session-desktop canvas").first.wait_for(timeout=60_000)
    assert page.locator("iframe").count() == 0  # drawn by our noVNC, no page of the container embedded
    wait_for(lambda: page.evaluate(COUNT_DRAWN_PIXELS) > 10_000, timeout=60, what="the desktop drawn")
    page.screenshot(path=str(tmp_path / "desktop.png"))

    # Rendered running, the page opens the desktop's socket before its modules load, and noVNC
    # takes that one, with the greeting it held, instead of opening its own.
    page.add_init_script(COUNT_DESKTOP_SOCKETS)
    page.reload()
    wait_for(lambda: page.evaluate(COUNT_DRAWN_PIXELS) > 10_000, timeout=60, what="the desktop drawn again")
    assert page.evaluate("window.desktopSocketsOpened") == 1

    session = Session.objects.get()
    assert session.status == SessionStatus.RUNNING
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click("#session-delete")
    assert asked == ["Delete this session? Everything in it is lost."]
    assert Session.objects.get().status == SessionStatus.RUNNING  # cancelled: nothing happened
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#session-delete")
    page.wait_for_url("**/sessions/")
    assert "Deleting" in page.locator("#my-sessions").inner_text()
    wait_for(lambda: Session.objects.get().status == SessionStatus.DELETED, timeout=60, what="deleted")


def test_the_tile_returns_to_the_running_desktop_and_pause_then_resume_draws_it_again(
    page, platform, alice, desktop_image
):
    log_in(page, platform, ALICE, PASSWORDS[ALICE])
    page.click("button[aria-label='Launch Desktop']")
    page.wait_for_url("**/session/*/")
    session_url = page.url
    wait_for(lambda: page.evaluate(COUNT_DRAWN_PIXELS) > 10_000, timeout=90, what="the desktop drawn")

    page.goto(f"{platform}/")
    page.click("button[aria-label='Launch Desktop']")  # again: back to the same session, no second one
    page.wait_for_url(session_url)
    assert Session.objects.count() == 1

    page.goto(f"{platform}/sessions/")
    page.click("#my-sessions button:has-text('Pause')")
    wait_for(lambda: Session.objects.get().status == SessionStatus.PAUSED, timeout=60, what="paused")
    page.goto(session_url)
    assert page.is_visible("text=its programs are frozen")
    page.click("#session-resume button")  # the paused session's page offers Resume
    page.wait_for_url(session_url)
    wait_for(lambda: page.evaluate(COUNT_DRAWN_PIXELS) > 10_000, timeout=30, what="the desktop drawn after unpause")

    page.click("#session-stop")  # from the session's own page this time
    wait_for(lambda: Session.objects.get().status == SessionStatus.STOPPED, timeout=60, what="stopped")
    page.goto(session_url)
    assert page.is_visible("text=resuming starts its desktop again")
    page.click("#session-resume button")
    page.wait_for_url(session_url)
    # The X server of the first start left its lock in /tmp; the desktop must come back anyway.
    wait_for(lambda: page.evaluate(COUNT_DRAWN_PIXELS) > 10_000, timeout=90, what="the desktop drawn after resume")
    assert Session.objects.get().status == SessionStatus.RUNNING

    # An admin destroys it while its owner watches: the page says so and offers a new launch.
    session_destroy(session=Session.objects.get(), reason="destroyed by admin bob")
    page.wait_for_selector("#session-ended", state="visible", timeout=60_000)
    assert "destroyed by admin bob" in page.inner_text("#session-ended")
    assert page.is_hidden("#session-desktop") and page.is_visible("#session-relaunch")


def test_a_kasm_url_opens_the_desktop_in_a_fresh_browser_once(browser, page, platform, alice, desktop_image):
    """A portal's hand-off: request_kasm, then its kasm_url opened where nobody ever logged in."""
    issued = api_key_create(name="portal")
    body = {"api_key": issued.api_key.key, "api_key_secret": issued.secret}
    body |= {"user_id": user_public_id(alice), "image_id": desktop_image.hex_id}
    answer = page.request.post(f"{platform}/api/public/request_kasm", data=body).json()  # sets no cookie
    kasm_url = answer["kasm_url"]
    assert kasm_url.startswith("/#/connect/kasm/") and page.context.cookies() == []

    page.goto(f"{platform}{kasm_url}")  # the start page, which sends the fragment on
    page.wait_for_url("**/session/*/")
    wait_for(lambda: page.evaluate(COUNT_DRAWN_PIXELS) > 10_000, timeout=120, what="the desktop drawn")
    page.goto(f"{platform}/")
    assert "/accounts/login/" in page.url  # the link opened that session, not alice's account

    # get_kasm_screenshot of the real desktop: a JPEG of the asked width, not blank.
    shot = page.request.post(
        f"{platform}/api/public/get_kasm_screenshot", data={**body, "kasm_id": answer["kasm_id"], "width": 320}
    )
    assert shot.status == 200 and shot.headers["content-type"] == "image/jpeg"
    image = PillowImage.open(io.BytesIO(shot.body())).convert("L")
    assert image.size[0] == 320 and image.size[1] > 100
    assert ImageStat.Stat(image).stddev[0] > 5  # a drawn desktop, not one flat colour

    again = browser.new_context()
    try:
        second = again.new_page()
        second.goto(f"{platform}{kasm_url}")
        second.wait_for_selector("#link-refused")
        assert "was used already" in second.locator("#link-refused").inner_text()
    finally:
        again.close()


def test_the_panel_never_covers_the_desktop_and_moves_files_both_ways(
    page, platform, alice, desktop_image, docker_url, tmp_path
):
    from apps.agents.runtime.docker import container_exec

    log_in(page, platform, ALICE, PASSWORDS[ALICE])
    page.click("button[aria-label='Launch Desktop']")
    page.wait_for_url("**/session/*/")
    wait_for(lambda: page.evaluate(COUNT_DRAWN_PIXELS) > 10_000, timeout=120, what="the desktop drawn")
    desktop, panel = page.locator("#session-desktop").bounding_box(), page.locator("#session-panel").bounding_box()
    assert desktop["x"] + desktop["width"] <= panel["x"] + 1  # side by side, never on top
    page.click("#panel-toggle")  # closed: the desktop takes the room
    wait_for(lambda: page.locator("#session-desktop").bounding_box()["width"] > desktop["width"] + 200, what="wider")
    page.click("#panel-toggle")

    page.set_input_files(
        "#upload-input",
        [
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"from the browser\n"},
            {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": bytes(range(256)) * 1000},
        ],
    )
    page.wait_for_selector("#upload-status:has-text('In ~/Uploads')", timeout=60_000)
    session = Session.objects.get()
    listing = container_exec(docker_url, session.container_id, cmd=["ls", "/home/kasm-user/Uploads"])[1]
    assert listing.split() == ["notes.txt", "photo.jpg"]

    made = bytes(range(256)) * 3000 + b"end"
    write = "import sys; sys.stdout.buffer.write(bytes(range(256)) * 3000 + b'end')"
    container_exec(
        docker_url,
        session.container_id,
        cmd=["sh", "-c", f'mkdir -p ~/Downloads && python3 -c "{write}" > ~/Downloads/made.bin'],
    )
    page.click("#files-path button:has-text('~')")
    page.click("#files-list button:has-text('Downloads/')")
    with page.expect_download() as download:
        page.click("#files-list a:has-text('made.bin')")
    saved = tmp_path / "made.bin"
    download.value.save_as(saved)
    assert saved.read_bytes() == made


def test_the_desktop_follows_the_size_of_the_tab(page, platform, alice, desktop_image):
    log_in(page, platform, ALICE, PASSWORDS[ALICE])
    page.click("button[aria-label='Launch Desktop']")
    page.wait_for_url("**/session/*/")
    wait_for(lambda: page.evaluate(COUNT_DRAWN_PIXELS) > 10_000, timeout=120, what="the desktop drawn")

    def framebuffer_and_room() -> tuple[tuple[int, int], tuple[int, int]]:
        """The remote framebuffer's size (noVNC's canvas) and the room the page gives it."""
        return page.evaluate(
            """() => {
              const canvas = document.querySelector('#session-desktop canvas');
              const room = document.getElementById('session-desktop');
              return [[canvas.width, canvas.height], [room.clientWidth, room.clientHeight]];
            }"""
        )

    def fits() -> bool:
        (width, height), (room_width, room_height) = framebuffer_and_room()
        return abs(width - room_width) <= 2 and abs(height - room_height) <= 2

    wait_for(fits, timeout=20, what=f"the desktop sized to the tab: {framebuffer_and_room()}")
    first = framebuffer_and_room()[0]
    page.set_viewport_size({"width": 1000, "height": 700})
    wait_for(fits, timeout=20, what=f"the desktop resized with the tab: {framebuffer_and_room()}")
    assert framebuffer_and_room()[0][0] < first[0] - 200


def test_a_workspace_with_a_fixed_size_keeps_it_and_is_scaled_to_the_tab(page, platform, alice, desktop_image):
    desktop_image.desktop_resolution = "1024x768"
    desktop_image.save()
    log_in(page, platform, ALICE, PASSWORDS[ALICE])
    page.click("button[aria-label='Launch Desktop']")
    page.wait_for_url("**/session/*/")
    wait_for(lambda: page.evaluate(COUNT_DRAWN_PIXELS) > 10_000, timeout=120, what="the desktop drawn")

    def framebuffer_and_shown() -> list:
        """The remote framebuffer's size (the canvas's own) and the size it is shown at in the page."""
        return page.evaluate(
            """() => {
              const canvas = document.querySelector('#session-desktop canvas');
              const shown = canvas.getBoundingClientRect();
              return [[canvas.width, canvas.height], [Math.round(shown.width), Math.round(shown.height)]];
            }"""
        )

    assert framebuffer_and_shown()[0] == [1024, 768]
    page.set_viewport_size({"width": 1000, "height": 700})
    # Scaled down to what the panel leaves, the remote desktop itself untouched.
    wait_for(lambda: framebuffer_and_shown()[1][0] < 1000 - 300, timeout=20, what=f"scaled: {framebuffer_and_shown()}")
    page.wait_for_timeout(1000)  # what a resize request would have had time to change
    assert framebuffer_and_shown()[0] == [1024, 768]


def test_a_file_written_in_the_desktop_is_there_in_the_next_session(
    volume_name, page, platform, alice, desktop_image, docker_url, tmp_path
):
    from apps.agents.runtime.docker import container_exec

    desktop_image.persistent_profile_path = f"{volume_name}-{{user_id}}"
    desktop_image.save()
    log_in(page, platform, ALICE, PASSWORDS[ALICE])
    page.click("button[aria-label='Launch Desktop']")
    page.wait_for_url("**/session/*/")
    wait_for(lambda: page.evaluate(COUNT_DRAWN_PIXELS) > 10_000, timeout=120, what="the desktop drawn")

    # Typed into the desktop's terminal, as its user would.
    canvas = page.locator("#session-desktop canvas").first.bounding_box()
    page.mouse.click(canvas["x"] + 200, canvas["y"] + 150)
    page.keyboard.type("echo kept by alice > ~/kept.txt")
    page.keyboard.press("Enter")
    first = Session.objects.get()
    wait_for(
        lambda: (
            container_exec(docker_url, first.container_id, cmd=["cat", "/home/kasm-user/kept.txt"])
            == (0, "kept by alice\n")
        ),
        timeout=20,
        what="the typed command run in the desktop",
    )

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#session-delete")
    wait_for(lambda: Session.objects.get().status == SessionStatus.DELETED, timeout=60, what="deleted")

    page.goto(f"{platform}/")
    page.click("button[aria-label='Launch Desktop']")
    page.wait_for_url("**/session/*/")
    wait_for(lambda: page.evaluate(COUNT_DRAWN_PIXELS) > 10_000, timeout=120, what="the next desktop drawn")
    assert Session.objects.exclude(pk=first.pk).get().container_id != first.container_id
    page.click("#files-path button:has-text('~')")
    with page.expect_download() as download:
        page.click("#files-list a:has-text('kept.txt')")
    saved = tmp_path / "kept.txt"
    download.value.save_as(saved)
    assert saved.read_text() == "kept by alice\n"
