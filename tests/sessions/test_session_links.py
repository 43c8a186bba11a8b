"""Self-opening session links (Kasm's kasm_url): one-time, short-lived, and good for one session only."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from apps.accounts.services import api_key_create
from apps.common.runtime_settings import runtime_settings_save
from apps.common.units import GIB
from apps.images.models import Image
from apps.sessions.api.public.formats import user_public_id
from apps.sessions.links import session_link_create
from apps.sessions.models import Session, SessionLink
from apps.sessions.selectors import session_for_proxy
from apps.sessions.services import session_mark_running
from apps.sessions.tasks import sessions_expire_task
from tests.agents.factories import agent
from tests.sessions.stub_sessions import stub_session

pytestmark = pytest.mark.django_db
LINK = r"/#/connect/kasm/(?P<kasm_id>[0-9a-f]{32})/(?P<user_id>[0-9a-f]{32})/(?P<token>[A-Za-z0-9_-]+)"


@pytest.fixture
def api(client):
    issued = api_key_create(name="portal")
    key = {"api_key": issued.api_key.key, "api_key_secret": issued.secret}

    def post(name: str, body: dict):
        return client.post(f"/api/public/{name}", {**key, **body}, content_type="application/json").json()

    return post


@pytest.fixture
def requested(api, alice):
    """A running session of alice's from request_kasm, and its kasm_url."""
    agent()
    image = Image.objects.create(docker_image="kasm-local/busybox-test:latest", friendly_name="Busybox", memory=GIB)
    answer = api("request_kasm", {"user_id": user_public_id(alice), "image_id": image.hex_id})
    session = Session.objects.get(pk=answer["kasm_id"])
    session_mark_running(session=session, container_id="c" * 64, host_port=40001)
    return session, answer["kasm_url"]


def clean_path(kasm_url: str) -> str:
    """What the page at `/` turns the fragment link into (static/js/connect-link.js)."""
    kasm_id, user_id, token = kasm_url.removeprefix("/#/connect/kasm/").split("/")
    return f"/connect/{kasm_id}/{user_id}/{token}/"


def test_kasm_url_has_kasms_shape_and_names_the_session_and_user(requested, alice):
    session, kasm_url = requested
    match = re.fullmatch(LINK, kasm_url)
    assert match and match["kasm_id"] == session.hex_id and match["user_id"] == user_public_id(alice)


def test_a_link_opens_its_session_once_in_a_browser_without_login(requested):
    session, kasm_url = requested
    browser = Client()
    page = browser.get(clean_path(kasm_url))
    assert page.status_code == 200 and b'id="connect-form"' in page.content  # a GET uses nothing up
    assert SessionLink.objects.get().used_at is None
    opened = browser.post(clean_path(kasm_url))
    assert opened.status_code == 302 and opened.url == f"/session/{session.hex_id}/"
    assert browser.get(opened.url).status_code == 200
    assert browser.get(f"/session/{session.hex_id}/status/").json()["status"] == "running"
    assert browser.post(f"/session/{session.hex_id}/keepalive/").status_code == 200
    again = Client().post(clean_path(kasm_url))
    assert again.status_code == 410 and "was used already" in again.content.decode()


def test_the_link_reaches_that_session_only_not_the_account(requested, alice):
    session, kasm_url = requested
    other, _token = stub_session(alice)
    browser = Client()
    browser.post(clean_path(kasm_url))
    assert browser.get("/").status_code == 302  # the start page still asks for a login
    assert browser.get("/sessions/").status_code == 302
    assert browser.get(f"/session/{other.hex_id}/").status_code == 302
    assert browser.post(f"/session/{other.hex_id}/delete/").status_code == 302
    assert Session.objects.get(pk=other.pk).status == "running"
    page = browser.get(f"/session/{session.hex_id}/").content.decode()
    assert 'id="share-panel"' not in page  # no sharing from a link


def test_the_proxy_lets_the_browser_with_the_link_reach_its_session_only(requested, alice):
    session, kasm_url = requested
    other, _token = stub_session(alice)
    browser = Client()
    browser.post(clean_path(kasm_url))
    browser_session = browser.session
    access = session_for_proxy(kasm_id=session.pk, user=None, cookies={}, browser_session=browser_session)
    assert access is not None and not access.view_only and access.user_id == alice.pk
    assert session_for_proxy(kasm_id=other.pk, user=None, cookies={}, browser_session=browser_session) is None
    assert session_for_proxy(kasm_id=session.pk, user=None, cookies={}, browser_session=Client().session) is None


def test_an_expired_or_made_up_link_is_refused_and_offers_the_login(requested):
    session, kasm_url = requested
    SessionLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = Client().post(clean_path(kasm_url))
    assert expired.status_code == 410 and "has expired" in expired.content.decode()
    assert 'href="/accounts/login/"' in expired.content.decode()
    made_up = Client().post(f"/connect/{session.hex_id}/{'0' * 32}/not-a-token/")
    assert made_up.status_code == 410 and "not valid" in made_up.content.decode()
    assert SessionLink.objects.get().used_at is None


def test_each_status_call_gives_a_new_working_link_that_lives_as_long_as_the_setting(api, requested, alice):
    session, first = requested
    runtime_settings_save({"SESSION_LINK_LIFETIME_SECONDS": 60})
    status = api("get_kasm_status", {"user_id": user_public_id(alice), "kasm_id": session.hex_id})
    second = status["kasm_url"]
    assert second != first
    link = SessionLink.objects.order_by("-created_at").first()
    assert timedelta(seconds=50) < link.expires_at - timezone.now() <= timedelta(seconds=60)
    browser = Client()
    assert browser.post(clean_path(second)).status_code == 302
    assert browser.get(f"/session/{session.hex_id}/").status_code == 200


def test_a_newer_link_makes_the_earlier_unused_ones_open_nothing(api, requested, alice):
    session, first = requested
    body = {"user_id": user_public_id(alice), "kasm_id": session.hex_id}
    second = api("get_kasm_status", body)["kasm_url"]
    third = api("get_kasm_status", body)["kasm_url"]
    for superseded in (first, second):
        refused = Client().post(clean_path(superseded))
        assert refused.status_code == 410 and "A newer link to this session was issued" in refused.content.decode()
    assert Client().post(clean_path(third)).status_code == 302


def test_links_that_expired_over_a_day_ago_are_deleted_by_the_minutely_task(requested):
    session, _kasm_url = requested
    SessionLink.objects.update(expires_at=timezone.now() - timedelta(days=1, minutes=1))
    session_link_create(session=session, user_public_id="0" * 32)
    sessions_expire_task()
    assert SessionLink.objects.count() == 1 and Session.objects.filter(pk=session.pk).exists()
