import pytest

from apps.agents.models import Agent
from apps.images.models import Image
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session
from apps.sessions.sharing import session_sharing_enable, share_join
from tests.personas import DAVE, PASSWORDS


@pytest.fixture
def dave(django_user_model):
    return django_user_model.objects.create_user(DAVE, password=PASSWORDS[DAVE])


@pytest.fixture
def mallory(django_user_model):
    return django_user_model.objects.create_user("mallory", password="mallory-password-1")


@pytest.fixture
def shared_session(alice, carol, dave):
    """alice's running session, shared; carol and dave joined it."""
    agent = Agent.objects.create(hostname="chat-host", address="127.0.0.1", status="online")
    image = Image.objects.create(docker_image="kasm-local/busybox-test:latest", friendly_name="Busybox")
    session = Session.objects.create(owner=alice, image=image, agent=agent, status=SessionStatus.RUNNING, host_port=1)
    session_sharing_enable(session=session)
    share_join(share_id=session.share_id, user=carol)
    share_join(share_id=session.share_id, user=dave)
    return session
