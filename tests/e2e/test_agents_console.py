"""The agents console in a real browser: list with bars, detail with a chart, live updates, history."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.agents.capacity import Resources
from apps.agents.services import agent_checkin, agent_reserve_capacity, manager_token_rotate
from apps.common.units import GIB
from tests.agents.factories import CREDENTIAL, gpu, host_report
from tests.e2e.conftest import log_in, off_loop

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def token(settings):
    settings.AGENT_AUTO_APPROVE = True
    return manager_token_rotate(grace=timedelta(minutes=5))


def make_busy_agent(token):
    host = agent_checkin(
        credential=CREDENTIAL,
        token=token,
        report=host_report("gpu-host", gpus=[gpu(0)], cores=6, memory_total=16 * GIB),
    )
    host.cores_override = 12
    host.save()
    agent_reserve_capacity(agent_id=host.pk, request=Resources(cores=2, memory=GIB))
    agent_reserve_capacity(agent_id=host.pk, request=Resources(cores=3, memory=GIB))
    return host


@pytest.fixture
def busy_agent(token):
    """6 cores overridden to 12, with sessions of 2 and 3 cores: '5 of 12 CPUs allocated'."""
    return off_loop(make_busy_agent, token)


@pytest.fixture
def console_page(page, server, admin_user_with_console):
    log_in(page, server, "bob", "bob-password-1")
    return page


def test_agents_list_shows_status_and_bars(console_page, server, busy_agent):
    console_page.goto(f"{server}/console/agents/")
    row = console_page.locator("tr[data-agent=gpu-host]")
    assert row.locator(".status").inner_text() == "online"
    assert "5 of 12 CPUs allocated" in row.inner_text()
    width = row.locator(".bar").first.locator(".allocated").evaluate("el => el.style.width")
    assert float(width.rstrip("%")) == pytest.approx(100 * 5 / 12)


def test_agents_list_updates_without_a_reload(console_page, server, busy_agent, token):
    console_page.goto(f"{server}/console/agents/")
    console_page.wait_for_function("document.body.dataset.live === 'connected'")
    off_loop(agent_checkin, token=token, credential=CREDENTIAL, report=host_report("second-host"))
    console_page.locator("tr[data-agent=second-host]").wait_for(timeout=10_000)


def test_agent_detail_draws_the_usage_chart_and_lists_gpus(console_page, server, busy_agent, tmp_path):
    console_page.goto(f"{server}/console/agents/{busy_agent.hex_id}/")
    console_page.screenshot(path=tmp_path / "agent-usage.png", full_page=True)
    assert console_page.locator("#cpu-caption").inner_text() == "5 of 12 CPUs allocated"
    # Cores and GiB on charts of their own, each axis named by its unit.
    charts = "Object.entries(window.usageCharts).map(([k, c]) => [k, c.data.labels, c.data.datasets[0].data, {}])"
    data = console_page.evaluate(charts.replace(", {}]", ", c.options.scales.x.title.text]"))
    assert data == [
        ["cpu", ["Used", "Allocated", "Capacity"], [1.5, 5, 12], "cores"],
        ["memory", ["Used", "Allocated", "Capacity"], [2, 2, 16], "GiB"],
    ]
    console_page.click("[data-tab=gpus]")
    gpus = console_page.locator("#gpus").inner_text()
    assert "NVIDIA H100 80GB HBM3" in gpus and "41 °C" in gpus and "7 %" in gpus


def test_agent_settings_are_saved_from_the_edit_form(console_page, server, busy_agent, tmp_path):
    console_page.goto(f"{server}/console/agents/{busy_agent.hex_id}/")
    console_page.click("[data-tab=settings]")
    console_page.screenshot(path=tmp_path / "agent-settings.png", full_page=True)
    enabled = console_page.get_by_label("Enabled: takes new sessions")
    assert enabled.is_checked()
    enabled.uncheck()
    console_page.fill("#id_cores_override", "24")
    console_page.click("#tab-settings button[type=submit]")
    console_page.wait_for_selector("text=Saved the settings of gpu-host.")
    assert "disabled (draining)" in console_page.content()


def test_dashboard_chart_renders_the_history(console_page, server, busy_agent, token, tmp_path):
    now = timezone.now()
    for minutes_ago in (30, 20, 10):  # each in its own 6-minute bucket of the day
        report = host_report("gpu-host", cpu_percent=float(minutes_ago))
        off_loop(
            agent_checkin, token=token, credential=CREDENTIAL, report=report, now=now - timedelta(minutes=minutes_ago)
        )
    console_page.goto(f"{server}/console/dashboard/")
    console_page.wait_for_function("Number(document.body.dataset.historyPoints) >= 4")
    cpu = console_page.evaluate("window.historyCharts.cpu.data.datasets[0].data")
    assert cpu == [30, 20, 10, 25]  # the three back-dated check-ins, then the fixture's at "now"
    drawn = console_page.evaluate(
        "(() => { const c = document.getElementById('cpu-history');"
        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; })()"
    )
    assert drawn > 500, "the CPU history canvas is blank"
    # Legible at a glance: short time labels, one unit per axis, tops at the capacity, sized to the page.
    axes = console_page.evaluate(
        "Object.values(window.historyCharts).map(c => [c.options.scales.y.title.text, c.scales.y.max,"
        " c.scales.x.ticks.map(t => t.label)])"
    )
    assert [(unit, top) for unit, top, _labels in axes] == [("%", 100), ("GiB", 16), ("GiB", 100)]
    assert all(len(label) <= 8 and ":" in label for _unit, _top, labels in axes for label in labels)
    width = console_page.evaluate("document.querySelector('main').clientWidth")
    for name in ("cpu-history", "memory-history", "disk-history"):
        box = console_page.locator(f"#{name}").bounding_box()
        assert box["width"] <= width / 2 and box["height"] == 240
    assert "Each point averages 6 minutes." in console_page.locator("#history-resolution").inner_text()
    console_page.screenshot(path=tmp_path / "dashboard.png", full_page=True)
