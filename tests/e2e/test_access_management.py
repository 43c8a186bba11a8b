"""Access management in a real browser: an admin makes a group with a policy and a user in it;
the user sees only the workspace granted, is disconnected when idle, and is stopped at the cap;
the audit trail shows what the admin did."""

import pytest

from apps.sessions.models import Session
from tests.e2e.conftest import log_in
from tests.e2e.test_session_desktop import COUNT_DRAWN_PIXELS
from tests.personas import DAVE
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
DAVE_PASSWORD = "a-long-passphrase-for-dave"


def test_admin_restricts_a_new_user_to_one_desktop_with_a_cap_and_idle_disconnect(
    browser, page, platform, admin_user_with_console, busybox_image, desktop_image, tmp_path
):
    log_in(page, platform, "bob", "bob-password-1")
    page.goto(f"{platform}/console/groups/")
    page.click("text=All Users")
    page.uncheck("input[name=all_workspaces]")  # All Users no longer grants every workspace
    page.click("#group-form button[type=submit]")
    page.wait_for_selector("text=Saved the group All Users")

    page.goto(f"{platform}/console/groups/")
    page.fill("#group-create input[name=name]", "Contractors")
    page.fill("#group-create input[name=priority]", "10")
    page.click("#group-create button[type=submit]")
    page.wait_for_selector("h1:has-text('Group Contractors')")
    page.check(f"input[name=workspaces][value='{desktop_image.pk}']")
    page.check("input[name=set_max_sessions_per_user]")
    page.fill("input[name=max_sessions_per_user]", "1")
    page.check("input[name=set_idle_disconnect]")
    page.fill("input[name=idle_disconnect]", "0.05")  # 3 s
    page.check("input[name=set_allow_clipboard_down]")
    page.uncheck("input[name=allow_clipboard_down]")
    page.screenshot(path=str(tmp_path / "group.png"), full_page=True)
    page.click("#group-form button[type=submit]")
    page.wait_for_selector("text=Saved the group Contractors")

    page.goto(f"{platform}/console/users/new/")
    page.fill("input[name=username]", DAVE)
    page.fill("input[name=password]", DAVE_PASSWORD)
    page.check("label:has-text('Contractors') input")
    page.click("#user-form button[type=submit]")
    page.locator("h1", has_text=f"Created {DAVE}").wait_for()
    page.goto(f"{platform}/console/users/")
    page.screenshot(path=str(tmp_path / "users.png"), full_page=True)

    user_context = browser.new_context(viewport={"width": 1280, "height": 900})
    errors = []
    dave = user_context.new_page()
    dave.on("pageerror", lambda error: errors.append(str(error)))
    log_in(dave, platform, DAVE, DAVE_PASSWORD)
    tiles = dave.locator("#workspace-tiles .tile strong").all_inner_texts()
    assert tiles == ["Desktop"]  # Busybox is not granted to any of dave's groups

    dave.click("button[aria-label='Launch Desktop']")
    dave.wait_for_url("**/session/*/")
    dave.wait_for_selector("#session-desktop[data-connected=true]", timeout=120_000)
    dave.wait_for_selector("#idle-notice:not([hidden])", timeout=30_000)  # no input for 3 s
    dave.screenshot(path=str(tmp_path / "idle.png"))
    assert dave.locator("#session-desktop").get_attribute("data-connected") == "false"
    dave.click("#reconnect")
    dave.wait_for_selector("#session-desktop[data-connected=true]", timeout=30_000)

    def drawn_while_moving_the_mouse() -> bool:  # input keeps the desktop open
        dave.mouse.move(300 + len(errors), 300)
        dave.mouse.move(310, 310)
        return dave.evaluate(COUNT_DRAWN_PIXELS) > 10_000

    # the desktop is drawn through the proxy's filter, which drops the clipboard from the stream
    wait_for(drawn_while_moving_the_mouse, timeout=60, what="the desktop drawn")
    assert dave.locator("#idle-notice").is_hidden()
    session = Session.objects.get()

    dave.goto(f"{platform}/")
    dave.click("button[aria-label='New session of Desktop']")  # the tile itself reopens the running one
    limit = dave.locator(".session-limit")
    limit.wait_for()
    dave.screenshot(path=str(tmp_path / "session-limit.png"), full_page=True)
    assert "the most your groups allow (1)" in limit.inner_text()
    assert dave.locator(f".session-limit a[href='/session/{session.hex_id}/']").count() == 1
    assert Session.objects.count() == 1
    user_context.close()
    assert not errors, f"JavaScript errors on the user's pages: {errors}"

    page.goto(f"{platform}/console/audit/")
    page.screenshot(path=str(tmp_path / "audit.png"), full_page=True)
    audit = page.locator("#audit").inner_text()
    for action in ("console.group.update", "console.group.create", "console.user.create"):
        assert action in audit
    assert "Contractors" in audit and DAVE in audit
    wait_for(lambda: Session.objects.filter(status="running").exists(), timeout=5, what="the session still running")
