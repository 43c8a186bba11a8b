"""The console's settings and manager token pages in a real browser."""

from datetime import timedelta

import pytest

from apps.agents.services import agent_checkin, manager_token_is_valid, manager_token_rotate
from apps.common.runtime_settings import runtime_setting
from tests.agents.factories import CREDENTIAL, host_report
from tests.e2e.conftest import log_in, off_loop

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def console_page(page, server, admin_user_with_console):
    log_in(page, server, "bob", "bob-password-1")
    return page


def test_an_admin_changes_a_setting_and_it_is_in_force(console_page, server, tmp_path):
    console_page.goto(f"{server}/console/settings/")
    console_page.screenshot(path=tmp_path / "settings.png", full_page=True)
    field = console_page.get_by_label("History shown on joining")
    field.fill("5")
    console_page.get_by_label("Check-in interval (seconds)").fill("2")
    console_page.click("#settings-form button[type=submit]")
    # The browser's own bounds check stops the form; the server never saw a partial save.
    assert console_page.url.endswith("/console/settings/")
    assert off_loop(runtime_setting, "CHAT_HISTORY_SIZE") != 5
    console_page.get_by_label("Check-in interval (seconds)").fill("30")
    console_page.click("#settings-form button[type=submit]")
    console_page.wait_for_selector("text=Saved 1 change.")
    assert off_loop(runtime_setting, "CHAT_HISTORY_SIZE") == 5
    assert console_page.get_by_label("History shown on joining").input_value() == "5"


def test_an_admin_rotates_the_manager_token_warned_of_the_agents_using_it(console_page, server, settings, tmp_path):
    settings.AGENT_AUTO_APPROVE = True
    token = off_loop(manager_token_rotate, grace=timedelta(minutes=60))
    off_loop(agent_checkin, token=token, credential=CREDENTIAL, report=host_report("host-a"))
    console_page.goto(f"{server}/console/agents/")
    console_page.click("#manager-token-link")
    assert "1 agent presents it" in console_page.locator("#current-token").inner_text()
    console_page.screenshot(path=tmp_path / "manager-token.png", full_page=True)
    warnings = []

    def answer(dialog):
        warnings.append(dialog.message)
        dialog.accept()

    console_page.on("dialog", answer)
    console_page.click("#rotate-token")
    new_token = console_page.locator("#manager-token").inner_text()
    assert "should be given the new one: host-a." in warnings[0]
    assert off_loop(manager_token_is_valid, new_token)
    console_page.goto(f"{server}/console/manager-token/")
    assert "host-a" in console_page.locator("#retiring-tokens").inner_text()
    console_page.screenshot(path=tmp_path / "manager-token-after.png", full_page=True)
