import pytest

from apps.sessions.sharing import session_sharing_enable, share_join
from tests.personas import DAVE, PASSWORDS
from tests.sessions.stub_sessions import stub_session


@pytest.fixture
def dave(django_user_model):
    return django_user_model.objects.create_user(DAVE, password=PASSWORDS[DAVE])


@pytest.fixture
def mallory(django_user_model):
    return django_user_model.objects.create_user("mallory", password="mallory-password-1")


@pytest.fixture
def shared_session(alice, carol, dave):
    """alice's running session, shared; carol and dave joined it."""
    session, _ = stub_session(alice, port=1)
    session_sharing_enable(session=session)
    share_join(share_id=session.share_id, user=carol)
    share_join(share_id=session.share_id, user=dave)
    return session
