"""Zones in the console (admins only): create, rename, the placement policy per zone, delete
refused while agents or workspaces use it."""

import pytest

from apps.agents.models import Zone
from apps.agents.placement import zone_policy
from apps.common.units import GIB
from apps.images.models import Image
from apps.sessions.scheduler import agents_in_placement_order, candidate_agents
from tests.agents.factories import agent

pytestmark = pytest.mark.django_db


def test_zone_pages_refuse_plain_users(client, alice):
    zone = Zone.objects.create(name="eu")
    client.force_login(alice)
    assert client.get("/console/zones/").status_code == 403
    assert client.post("/console/zones/", {"name": "x"}).status_code == 403
    assert client.post(f"/console/zones/{zone.hex_id}/", {"name": "y"}).status_code == 403
    assert client.post(f"/console/zones/{zone.hex_id}/delete/").status_code == 403
    assert list(Zone.objects.values_list("name", flat=True)) == ["eu"]


def test_an_admin_creates_renames_and_deletes_a_zone(console):
    console.post("/console/zones/", {"name": "Frankfurt", "placement_policy": "pack"})
    zone = Zone.objects.get()
    assert zone.placement_policy == "pack"
    assert "Frankfurt" in console.get("/console/zones/").content.decode()
    console.post(f"/console/zones/{zone.hex_id}/", {"name": "FRA-1", "placement_policy": ""})
    zone.refresh_from_db()
    assert (zone.name, zone.placement_policy) == ("FRA-1", "")
    page = console.post("/console/zones/", {"name": "fra-1"}).content.decode()
    assert "exists" in page and Zone.objects.count() == 1
    console.post(f"/console/zones/{zone.hex_id}/delete/")
    assert not Zone.objects.exists()


def test_a_zone_in_use_is_not_deleted_and_the_message_names_its_users(console):
    zone = Zone.objects.create(name="eu")
    agent(hostname="eu-1", zone=zone)
    Image.objects.create(docker_image="d", friendly_name="Desktop", restrict_to_zone=zone)
    response = console.post(f"/console/zones/{zone.hex_id}/delete/", follow=True)
    assert "used by agents eu-1 and workspaces Desktop" in response.content.decode()
    assert Zone.objects.exists()


def test_a_zones_policy_orders_its_agents_and_the_default_applies_across_zones(settings):
    settings.SCHEDULER_POLICY = "spread"
    packed = Zone.objects.create(name="packed", placement_policy="pack")
    busy = agent(hostname="busy", zone=packed, cores=8, memory=16 * GIB, reserved_cores=6)
    idle = agent(hostname="idle", zone=packed, cores=8, memory=16 * GIB)
    image = Image.objects.create(docker_image="d", friendly_name="D", restrict_to_zone=packed)
    ordered = agents_in_placement_order(candidate_agents(image), image)
    assert [a.hostname for a in ordered] == [busy.hostname, idle.hostname]  # pack: the fuller agent first
    assert zone_policy({"pack"}, "spread") == "pack"
    assert zone_policy({""}, "spread") == "spread"
    assert zone_policy({"pack", ""}, "spread") == "spread"
