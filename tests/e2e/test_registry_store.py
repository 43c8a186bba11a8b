"""The registry store in a real browser: add a registry, filter, read a flag's tooltip, install."""

import json

import pytest

from tests.e2e.conftest import log_in
from tests.registry.sites import copy_real_registries, serving

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def registry_sites(tmp_path):
    """The real registries, with the registry logo (hosted elsewhere) pointed at loopback."""
    root = copy_real_registries(tmp_path)
    listing_path = root / "doctorfree__kasm-registry" / "1.0" / "list.json"
    listing = json.loads(listing_path.read_text())
    listing["icon"] = "1.0/icons/appimage.png"
    listing["workspaces"][0]["description"] = "<script>window.injected = true</script>AppImage desktop"
    listing_path.write_text(json.dumps(listing))
    with serving(root) as url:
        yield url


def test_admin_adds_a_registry_filters_reads_flags_and_installs_a_workspace(
    page, server, registry_sites, admin_user_with_console
):
    log_in(page, server, "bob", "bob-password-1")
    page.goto(f"{server}/console/registry/")
    page.fill("#id_url", f"{registry_sites}doctorfree__kasm-registry/")
    page.click("#registry-add button[type=submit]")
    page.wait_for_selector("text=Added Record Technologies: 17 workspaces.")
    tiles = page.locator("#store-tiles .tile")
    assert tiles.count() == 17

    page.select_option("#store-category", "Productivity")
    visible = page.locator("#store-tiles .tile:visible")
    assert 0 < visible.count() < 17
    for index in range(visible.count()):
        assert "Productivity" in visible.nth(index).get_attribute("data-categories").split("|")

    appimage = page.locator("#store-tiles .tile", has_text="AppImageLauncher")
    assert "flagged" in appimage.get_attribute("class")
    tooltip = appimage.locator(".tooltip")
    assert not tooltip.is_visible()
    appimage.locator(".flag-warning").hover()
    tooltip.wait_for(state="visible")
    assert "privileged" in tooltip.inner_text() and "first_launch" in tooltip.inner_text()
    assert tooltip.locator("a", has_text="privileged").get_attribute("href") == "/console/registry/flags/#privileged"
    assert "<script>" in appimage.inner_text()  # shown as text, never run
    assert page.evaluate("window.injected") is None

    page.click("#clear-filters")
    assert page.locator("#store-tiles .tile:visible").count() == 17

    appimage.locator("input[name=confirm_flags]").check()
    appimage.locator("button", has_text="Install").click()
    page.wait_for_selector("text=Installed AppImageLauncher")
    assert page.locator("#store-tiles .tile", has_text="AppImageLauncher").locator(".badge.installed").is_visible()

    page.goto(f"{server}/")
    assert page.locator("#workspace-tiles .tile", has_text="AppImageLauncher").is_visible()
