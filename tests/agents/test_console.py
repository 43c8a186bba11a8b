"""Console pages and the console API of the agents: admins only, bars with overrides, settings."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.agents.capacity import Resources
from apps.agents.models import Agent, AgentStat, AgentStatHour, Zone
from apps.agents.selectors import agent_stat_series
from apps.agents.services import agent_reserve_capacity, manager_token_is_valid
from apps.common.units import GIB
from tests.agents.factories import agent

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_agent():
    host = agent("busy", cores=6, memory=16 * GIB, cores_override=12, cpu_percent=50, memory_used=4 * GIB)
    agent_reserve_capacity(agent_id=host.pk, request=Resources(cores=2, memory=GIB))
    agent_reserve_capacity(agent_id=host.pk, request=Resources(cores=3, memory=GIB))
    return host


@pytest.mark.parametrize(
    "url",
    ["/console/agents/", "/console/dashboard/", "/api/console/agents/"],
)
def test_console_and_its_api_refuse_plain_users(client, alice, url):
    client.force_login(alice)
    assert client.get(url).status_code == 403


def test_api_lists_bars_with_overrides_applied(console, busy_agent):
    [row] = console.get("/api/console/agents/").json()
    assert row["cpu"] == {"used": 3.0, "allocated": 5.0, "capacity": 12.0, "caption": "5 of 12 CPUs allocated"}
    assert row["memory"]["allocated"] == 2 * GIB and row["memory"]["capacity"] == 16 * GIB
    assert row["sessions"] == 2 and row["status"] == "online"


def test_the_agents_list_comes_a_page_of_100_at_a_time_with_search_and_status(console):
    Agent.objects.bulk_create(
        Agent(
            hostname=f"host-{index:03d}", address=f"10.0.0.{index}", status="offline" if index % 50 == 0 else "online"
        )
        for index in range(150)
    )

    def shown(params: dict) -> list[str]:
        page = console.get(reverse("agents:list"), params).content.decode()
        return [
            row["hostname"]
            for row in json.loads(page.split('id="agents-data" type="application/json">')[1].split("</script>")[0])
        ]

    assert shown({}) == [f"host-{index:03d}" for index in range(100)]
    assert shown({"page": 2})[-1] == "host-149" and len(shown({"page": 2})) == 50
    assert shown({"page": 99}) == shown({"page": 2})  # past the end: the last page
    assert shown({"q": "host-12"}) == [f"host-{index}" for index in range(120, 130)]
    assert shown({"status": "offline"}) == ["host-000", "host-050", "host-100"]
    api_page = [row["hostname"] for row in console.get("/api/console/agents/", {"page": 2}).json()]
    assert len(api_page) == 50 and api_page[-1] == "host-149"  # the live refresh reads the page shown
    assert len(console.get("/api/console/agents/", {"q": "host-14"}).json()) == 10


def test_list_page_embeds_the_agents_for_the_script(console, busy_agent):
    page = console.get(reverse("agents:list")).content.decode()
    assert "5 of 12 CPUs allocated" in page and "agent-list.js" in page


def test_detail_page_has_usage_gpus_images_and_settings(console, busy_agent):
    page = console.get(reverse("agents:detail", kwargs={"agent_id": busy_agent.pk})).content.decode()
    for text in ("5 of 12 CPUs allocated", "reports no GPU", "No image synchronised yet", 'name="cores_override"'):
        assert text in page


def test_settings_form_drains_and_overrides(console, busy_agent):
    zone = Zone.objects.create(name="eu")
    url = reverse("agents:detail", kwargs={"agent_id": busy_agent.pk})
    assert 'name="memory_override" value="0"' in console.get(url).content.decode()  # MB, not bytes
    form = {"zone": zone.pk, "cores_override": 24, "memory_override": 2048, "gpus_override": 0, "prune_mode": "normal"}
    response = console.post(url, form)
    assert response.status_code == 302
    busy_agent.refresh_from_db()
    assert not busy_agent.enabled and busy_agent.cores_override == 24 and busy_agent.zone == zone
    assert busy_agent.memory_override == 2 * 1024**3
    assert 'name="memory_override" value="2048"' in console.get(url).content.decode()
    assert busy_agent.reserved_sessions == 2  # draining keeps the running sessions


def test_gpu_override_without_a_physical_gpu_is_refused_with_the_reason(console, busy_agent):
    url = reverse("agents:detail", kwargs={"agent_id": busy_agent.pk})
    form = {"enabled": "on", "cores_override": 0, "memory_override": 0, "gpus_override": 4, "prune_mode": "off"}
    response = console.post(url, form)
    assert response.status_code == 200 and response.content.decode().count("has no physical GPU") == 1  # shown once
    assert Agent.objects.get(pk=busy_agent.pk).gpus_override == 0


def test_api_patch_validates_input(console, busy_agent):
    url = f"/api/console/agents/{busy_agent.hex_id}/"
    bad = console.patch(url, {"enabled": True, "cores_override": -1}, content_type="application/json")
    assert bad.status_code == 400 and "cores_override" in bad.json()
    good = {"enabled": False, "cores_override": 8, "memory_override": 0, "gpus_override": 0, "prune_mode": "off"}
    assert console.patch(url, good, content_type="application/json").json()["cpu"]["capacity"] == 8


def test_stats_api_returns_the_requested_window(console, busy_agent):
    now = timezone.now()
    for hours_ago in (30, 2, 0):
        AgentStat.objects.create(
            agent=busy_agent,
            recorded_at=now - timedelta(hours=hours_ago),
            cpu_percent=10 + hours_ago,
            memory_used=GIB,
            memory_total=16 * GIB,
            disk_used=GIB,
            disk_total=10 * GIB,
        )
    url = f"/api/console/agents/{busy_agent.hex_id}/stats/"
    assert console.get(url).json()["cpu_percent"] == [12, 10]
    assert len(console.get(url, {"hours": 48}).json()["timestamps"]) == 3
    assert console.get(url, {"hours": "a day"}).status_code == 400


def test_a_long_history_is_averaged_into_buckets_for_the_charts(console, busy_agent):
    now = timezone.now()
    rows = [
        AgentStat(
            agent=busy_agent,
            recorded_at=now - timedelta(seconds=30 * i),
            cpu_percent=20 if i % 2 else 40,
            memory_used=GIB * (1 if i % 2 else 3),
            memory_total=16 * GIB,
            disk_used=GIB,
            disk_total=10 * GIB,
        )
        for i in range(2880)  # a day of 30-second check-ins
    ]
    AgentStat.objects.bulk_create(rows)
    series = console.get(f"/api/console/agents/{busy_agent.hex_id}/stats/", {"hours": 24}).json()
    assert len(series["timestamps"]) == 240 and series["bucket_seconds"] == 360
    assert set(series["cpu_percent"][1:-1]) == {30.0} and set(series["memory_used"][1:-1]) == {2 * GIB}
    assert (series["memory_total"], series["disk_total"]) == (16 * GIB, 10 * GIB)


def test_a_week_reads_hourly_averages_and_the_check_ins_after_the_last_averaged_hour(busy_agent):
    now = timezone.now().replace(minute=30, second=0, microsecond=0)
    last_hour = now.replace(minute=0) - timedelta(hours=1)
    AgentStatHour.objects.bulk_create(
        AgentStatHour(
            agent=busy_agent,
            hour=last_hour - timedelta(hours=hours_ago),
            samples=120,
            cpu_percent=50.0,
            memory_used=4 * GIB,
            memory_total=16 * GIB,
            disk_used=GIB,
            disk_total=10 * GIB,
        )
        for hours_ago in range(7 * 24 - 2)
    )
    stat = {"memory_used": GIB, "memory_total": 32 * GIB, "disk_used": GIB, "disk_total": 10 * GIB}
    AgentStat.objects.create(agent=busy_agent, recorded_at=last_hour, cpu_percent=99.0, **stat)  # averaged already
    AgentStat.objects.create(agent=busy_agent, recorded_at=now - timedelta(seconds=5), cpu_percent=10.0, **stat)
    series = agent_stat_series(busy_agent, since=now - timedelta(days=7), now=now)
    assert len(series["timestamps"]) == 7 * 24 - 1  # 166 hours, and the recent check-in in its own bucket
    assert set(series["cpu_percent"][:-1]) == {50.0} and series["cpu_percent"][-1] == 10.0
    assert series["memory_total"] == 32 * GIB  # the latest total tops the axis


def test_rotating_the_token_from_the_console_shows_it_once(console):
    page = console.post(reverse("agents:rotate-token")).content.decode()
    token = page.split('id="manager-token">')[1].split("<")[0]
    assert manager_token_is_valid(token)


def test_admin_asks_for_another_pull_of_an_image_whose_pulls_failed(console, busy_agent, settings):
    from apps.agents.models import AgentImage
    from apps.agents.services import agent_image_results_record

    settings.AGENT_IMAGE_PULL_ATTEMPTS = 1
    failure = [{"reference": "kasmweb/chrome:1.16", "status": "failed", "error": "registry unreachable"}]
    agent_image_results_record(agent=busy_agent, results=failure)
    detail = reverse("agents:detail", kwargs={"agent_id": busy_agent.pk})
    assert "Pull again" in console.get(detail).content.decode()
    response = console.post(
        reverse("agents:image-retry", kwargs={"agent_id": busy_agent.pk}), {"reference": "kasmweb/chrome:1.16"}
    )
    assert response.status_code == 302 and response.url == f"{detail}#images"
    state = AgentImage.objects.get()
    assert (state.status, state.failed_attempts) == ("missing", 0)
