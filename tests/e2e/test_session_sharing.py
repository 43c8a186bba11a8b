"""Sharing in two real browsers: the owner shares, a viewer opens the link, both see the desktop,
and the viewer's chat message appears on the owner's page."""

import time

import pytest
import redis
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.e2e.conftest import log_in
from tests.e2e.test_session_desktop import COUNT_DRAWN_PIXELS
from tests.personas import ALICE, CAROL, PASSWORDS
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for_desktop_drawn(page) -> None:
    try:
        page.locator("#session-desktop canvas").first.wait_for(timeout=30_000)
    except PlaywrightTimeout:
        page.reload()  # Chromium may abort loads with ERR_NETWORK_CHANGED when Docker adds an interface
        page.locator("#session-desktop canvas").first.wait_for(timeout=60_000)
    wait_for(lambda: page.evaluate(COUNT_DRAWN_PIXELS) > 10_000, timeout=60, what="the desktop drawn")


def test_owner_shares_viewer_watches_and_chats(
    browser, page, platform, alice, carol, desktop_image, redis_url, tmp_path
):
    log_in(page, platform, ALICE, PASSWORDS[ALICE])
    page.click("button[aria-label='Launch Desktop']")
    page.wait_for_url("**/session/*/")
    page.wait_for_selector("#session-desktop:not([hidden])", timeout=120_000)
    page.click("#share-start")
    page.wait_for_selector("#share-link")
    share_link = page.input_value("#share-link")
    wait_for_desktop_drawn(page)

    viewer_context = browser.new_context(viewport={"width": 1280, "height": 900})
    viewer = viewer_context.new_page()
    viewer_errors = []
    viewer.on("pageerror", lambda error: viewer_errors.append(str(error)))
    try:
        log_in(viewer, platform, CAROL, PASSWORDS[CAROL])
        viewer.goto(share_link)
        viewer.click("#share-join-button")
        wait_for_desktop_drawn(viewer)
        viewer.wait_for_selector("#chat[data-connected=true]")
        page.wait_for_selector(f"#chat-presence >> text={CAROL}")
        viewer.fill("#chat-input", "hello alice <b>not bold</b>")
        viewer.press("#chat-input", "Enter")
        message = page.locator("#chat-messages li", has_text="hello alice")
        message.wait_for(timeout=10_000)
        assert message.locator(".chat-body").inner_text() == "hello alice <b>not bold</b>"
        assert CAROL in message.locator(".chat-meta").inner_text()
        assert page.locator("#chat-messages b").count() == 0  # shown as text, never as HTML
        page.screenshot(path=str(tmp_path / "owner.png"))
        viewer.screenshot(path=str(tmp_path / "viewer.png"))

        # Redis drops every connection, then stalls for 5 s: the chat comes back by itself.
        outage = redis.Redis.from_url(redis_url)
        outage.client_kill_filter(_type="normal")
        outage.client_kill_filter(_type="pubsub")
        outage.client_pause(5000)
        time.sleep(5)
        for sender, receiver, text in ((page, viewer, "still there, carol?"), (viewer, page, "yes, alice")):
            sender.wait_for_selector("#chat[data-connected=true]", timeout=30_000)
            sender.fill("#chat-input", text)
            sender.press("#chat-input", "Enter")
            receiver.locator("#chat-messages li", has_text=text).wait_for(timeout=30_000)
    finally:
        viewer_context.close()
    assert not viewer_errors, f"JavaScript errors on the viewer's page: {viewer_errors}"


def test_a_join_kasm_link_shows_the_shared_desktop_and_chat_in_a_fresh_browser(
    browser, page, platform, alice, carol, desktop_image
):
    from apps.accounts.services import api_key_create
    from apps.sessions.api.public.formats import user_public_id
    from apps.sessions.models import Session

    log_in(page, platform, ALICE, PASSWORDS[ALICE])
    page.click("button[aria-label='Launch Desktop']")
    page.wait_for_url("**/session/*/")
    page.click("#share-start")
    page.wait_for_selector("#share-link")
    wait_for_desktop_drawn(page)
    issued = api_key_create(name="portal", permissions=["sessions_modify"])
    body = {"api_key": issued.api_key.key, "api_key_secret": issued.secret}
    body |= {"user_id": user_public_id(carol), "shared_id": Session.objects.get().share_id}
    kasm_url = page.request.post(f"{platform}/api/public/join_kasm", data=body).json()["kasm_url"]

    fresh = browser.new_context(viewport={"width": 1280, "height": 900})  # no cookies, nobody logged in
    try:
        viewer = fresh.new_page()
        viewer.goto(f"{platform}{kasm_url}")
        viewer.wait_for_url("**/share/*/")
        wait_for_desktop_drawn(viewer)
        viewer.wait_for_selector("#chat[data-connected=true]")
        viewer.fill("#chat-input", "came by link")
        viewer.press("#chat-input", "Enter")
        page.locator("#chat-messages li", has_text="came by link").wait_for(timeout=10_000)
        assert CAROL in page.locator("#chat-messages li", has_text="came by link").inner_text()
    finally:
        fresh.close()
