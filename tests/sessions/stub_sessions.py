"""A session row whose "container" is a stub server on loopback, for proxy tests and bench/proxy.py."""

from apps.agents.models import Agent
from apps.common.hashing import generate_secret, hash_secret
from apps.images.models import Image
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session


def stub_session(
    owner,
    *,
    port: int | None = None,
    status: str = SessionStatus.RUNNING,
    image: Image | None = None,
    vnc_password: str | None = None,
) -> tuple[Session, str]:
    """The session and its API `session_token` (the proxy's cookie)."""
    token = generate_secret()
    session = Session.objects.create(
        owner=owner,
        image=image or Image.objects.create(docker_image="stub", friendly_name="Stub"),
        # holding the reservation a launch makes, which a failed start gives back
        agent=Agent.objects.get_or_create(
            hostname="stub-host", defaults={"address": "127.0.0.1", "status": "online", "reserved_sessions": 1}
        )[0],
        status=status,
        host_port=port,
        vnc_password=vnc_password or generate_secret(),
        session_token_hash=hash_secret(token),
    )
    return session, token
