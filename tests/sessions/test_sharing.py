"""Sharing a session: links, who may watch (view-only), kicking, revoking, and join_kasm."""

import re
from urllib.parse import quote

import pytest

from apps.accounts.choices import ApiPermission
from apps.accounts.services import api_key_create
from apps.images.models import Image
from apps.sessions.api.public.formats import user_public_id
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session
from apps.sessions.selectors import session_for_proxy
from apps.sessions.sharing import session_sharing_disable, session_sharing_enable, share_join
from tests.sessions.stub_sessions import stub_session

pytestmark = pytest.mark.django_db


def access(session, user=None, cookies=None):
    return session_for_proxy(kasm_id=session.hex_id, user=user, cookies=cookies or {})


@pytest.fixture
def session(alice):
    return stub_session(alice, port=1)[0]


def test_owner_shares_and_a_logged_in_user_watches_view_only(client, alice, carol, session):
    client.force_login(alice)
    client.post(f"/session/{session.hex_id}/share/", {"enabled": "on"})
    session.refresh_from_db()
    assert session.share_id and len(session.share_id) == 32
    page = client.get(f"/session/{session.hex_id}/").content.decode()
    assert f"/share/{session.share_id}/" in page and 'id="chat"' in page
    assert client.get(f"/share/{session.share_id}/").status_code == 403  # the owner uses their own page

    client.force_login(carol)
    client.post(f"/share/{session.share_id}/")  # the page's Join button
    page = client.get(f"/share/{session.share_id}/").content.decode()
    assert 'data-view-only="true"' in page and f'data-path="desktop/{session.hex_id}/vnc/websockify"' in page
    assert access(session, carol).view_only is True
    assert access(session, alice).view_only is False


def test_strangers_kicked_viewers_and_revoked_links_get_no_access(client, alice, carol, django_user_model, session):
    mallory = django_user_model.objects.create_user("mallory", password="mallory-password-1")
    client.force_login(alice)
    client.post(f"/session/{session.hex_id}/share/", {"enabled": "on"})
    session.refresh_from_db()
    share_join(share_id=session.share_id, user=carol)
    assert access(session, mallory) is None  # never joined

    kicked = client.post(f"/session/{session.hex_id}/share/kick/", {"username": carol.username})
    assert kicked.json() == {"kicked": carol.username}
    assert access(session, carol) is None
    client.force_login(carol)
    refused = client.get(f"/share/{session.share_id}/")
    assert refused.status_code == 403 and f"{alice.username} removed you" in refused.content.decode()

    client.force_login(alice)
    old_share = session.share_id
    client.post(f"/session/{session.hex_id}/share/")
    session.refresh_from_db()
    assert session.share_id is None
    client.force_login(mallory)
    assert client.get(f"/share/{old_share}/").status_code == 403


def test_anonymous_visitors_of_a_share_link_must_log_in(client, session):
    session.share_id = "a" * 32
    session.save()
    response = client.get(f"/share/{'a' * 32}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_join_kasm_gives_a_view_only_token_for_the_proxy(client, alice, carol, session):
    issued = api_key_create(name="share", permissions=[ApiPermission.SESSIONS_MODIFY])
    session.share_id = "b" * 32
    session.save()

    def join(body):
        return client.post(
            "/api/public/join_kasm",
            {"api_key": issued.api_key.key, "api_key_secret": issued.secret, **body},
            content_type="application/json",
        )

    answer = join({"user_id": user_public_id(carol), "shared_id": "b" * 32}).json()
    assert answer["kasm"]["kasm_id"] == session.hex_id and answer["kasm_url"].startswith("/#/connect/kasm/")
    assert answer["username"] == carol.username
    cookies = {"username": carol.username, "session_token": answer["session_token"]}
    assert access(session, cookies=cookies).view_only is True
    assert access(session, cookies={**cookies, "session_token": "forged"}) is None
    response = join({"user_id": user_public_id(alice), "shared_id": "b" * 32})
    assert response.status_code == 403 and "your own session" in response.json()["error_message"]
    session_sharing_disable(session=session)
    assert access(session, cookies=cookies) is None


@pytest.mark.parametrize("encode", [lambda name: name.encode().decode("latin-1"), quote], ids=["raw-utf8", "percent"])
def test_a_non_ascii_username_cookie_reaches_the_session_however_the_client_encodes_it(carol, session, encode):
    session_sharing_enable(session=session)
    joined = share_join(share_id=session.share_id, user=carol)
    cookies = {"username": encode(carol.username), "session_token": joined.token}
    assert carol.username == "Zoë.Müller@example.de" and access(session, cookies=cookies).view_only is True


@pytest.fixture
def kasmvnc_session(alice):
    """A running KasmVNC-style session (it serves its own client over HTTP) with nothing listening."""
    image = Image.objects.create(docker_image="kasmweb/desktop:1", friendly_name="K", stream_protocol="kasmvnc")
    return stub_session(alice, port=1, image=image)[0]


@pytest.mark.parametrize("path", ["index.html", "a%3Fq%23frag%09tab", "..%2f..%2fetc"])
def test_a_workspace_that_does_not_answer_is_a_502_whatever_the_path(client, alice, kasmvnc_session, path):
    client.force_login(alice)
    response = client.get(f"/desktop/{kasmvnc_session.hex_id}/vnc/{path}")
    assert response.status_code == 502 and b"did not answer" in response.content


def test_a_starting_workspace_answers_503_with_retry_after(client, alice, kasmvnc_session):
    Session.objects.filter(pk=kasmvnc_session.pk).update(status=SessionStatus.PROVISIONING, host_port=None)
    client.force_login(alice)
    response = client.get(f"/desktop/{kasmvnc_session.hex_id}/vnc/index.html")
    assert response.status_code == 503 and response["Retry-After"] == "1"


def test_a_novnc_workspace_serves_nothing_over_http_only_its_websocket(client, alice, session):
    client.force_login(alice)
    for path in ("", "vnc.html", "app/ui.js"):
        response = client.get(f"/desktop/{session.hex_id}/vnc/{path}")
        assert response.status_code == 404 and b"only its WebSocket" in response.content


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("index.html", True),
        ("dist/main.bundle.js", True),
        ("api/get_screenshot", False),
        ("api/x.js", False),
        ("downloads/report.pdf", False),
        ("", False),
        ("websockify", False),
    ],
)
def test_a_viewer_reaches_only_the_clients_static_files(client, carol, kasmvnc_session, path, allowed):
    session_sharing_enable(session=kasmvnc_session)
    share_join(share_id=kasmvnc_session.share_id, user=carol)
    client.force_login(carol)
    response = client.get(f"/desktop/{kasmvnc_session.hex_id}/vnc/{path}")
    assert response.status_code == (502 if allowed else 403)  # 502: passed on, and nothing listens


def test_opening_a_share_link_joins_only_on_post(client, carol, session):
    session_sharing_enable(session=session)
    client.force_login(carol)
    page = client.get(f"/share/{session.share_id}/").content.decode()
    assert 'id="share-join-button"' in page and "session-desktop" not in page
    assert not session.viewers.exists()  # a GET (a link preview, an <img>) joins nobody
    response = client.post(f"/share/{session.share_id}/")
    assert response.status_code == 302 and session.viewers.get().user == carol
    page = client.get(f"/share/{session.share_id}/").content.decode()
    assert 'data-view-only="true"' in page and f"desktop/{session.hex_id}/vnc/websockify" in page
    assert "/desktop/" not in page.split("data-path=")[0]  # no page of the container is embedded


def test_join_kasms_link_opens_the_share_as_that_viewer_once_and_nothing_more(client, alice, carol, session):
    from django.contrib.auth.models import AnonymousUser
    from django.test import Client

    from apps.sessions.models import ShareViewer
    from apps.sessions.sharing import share_viewer_kick
    from tests.sessions.test_session_links import LINK, clean_path

    issued = api_key_create(name="share", permissions=[ApiPermission.SESSIONS_MODIFY])
    session_sharing_enable(session=session)
    body = {"api_key": issued.api_key.key, "api_key_secret": issued.secret}
    body |= {"user_id": user_public_id(carol), "shared_id": session.share_id}
    answer = client.post("/api/public/join_kasm", body, content_type="application/json").json()
    assert re.fullmatch(LINK, answer["kasm_url"])["user_id"] == user_public_id(carol)

    browser = Client()  # never logged in
    opened = browser.post(clean_path(answer["kasm_url"]))
    assert opened.status_code == 302 and opened["Location"] == f"/share/{session.share_id}/"
    page = browser.get(opened["Location"])
    assert page.status_code == 200 and 'id="session-desktop"' in page.content.decode()
    assert f'data-me="{carol.username}"' in page.content.decode()

    def by_link():
        anonymous = AnonymousUser()
        return session_for_proxy(kasm_id=session.hex_id, user=anonymous, cookies={}, browser_session=browser.session)

    assert by_link().view_only is True and by_link().user_id == carol.pk
    for elsewhere in (f"/session/{session.hex_id}/", "/", "/profile/"):  # the share only, not carol's account
        assert browser.get(elsewhere).status_code == 302
    refused = Client().post(clean_path(answer["kasm_url"]))
    assert refused.status_code == 410 and "used already" in refused.content.decode()

    share_viewer_kick(session=session, viewer=ShareViewer.objects.get(user=carol))
    assert browser.get(f"/share/{session.share_id}/").status_code == 403
    assert by_link() is None


def test_join_kasm_without_a_user_makes_a_temporary_viewer_that_goes_with_the_session(
    client, alice, session, django_user_model
):
    from django.contrib.auth.models import AnonymousUser
    from django.test import Client

    from apps.sessions.services import session_destroy, session_mark_deleted
    from tests.sessions.test_session_links import clean_path

    issued = api_key_create(name="share", permissions=[ApiPermission.SESSIONS_MODIFY])
    session_sharing_enable(session=session)
    body = {"api_key": issued.api_key.key, "api_key_secret": issued.secret, "shared_id": session.share_id}
    answer = client.post("/api/public/join_kasm", body, content_type="application/json").json()
    assert answer["username"].startswith("anonymous-")
    browser = Client()
    browser.post(clean_path(answer["kasm_url"]))
    anonymous = AnonymousUser()
    watching = session_for_proxy(kasm_id=session.hex_id, user=anonymous, cookies={}, browser_session=browser.session)
    assert watching.view_only is True
    unknown = client.post("/api/public/join_kasm", {**body, "shared_id": "c" * 32}, content_type="application/json")
    assert unknown.status_code == 404
    assert django_user_model.objects.filter(username__startswith="anonymous-").count() == 1  # none for the 404

    session_destroy(session=session)
    session_mark_deleted(session=Session.objects.get(pk=session.pk))
    assert not django_user_model.objects.filter(username=answer["username"]).exists()
    assert django_user_model.objects.filter(pk=alice.pk).exists()
