from datetime import timedelta

import pytest

from apps.agents.choices import AgentStatus
from apps.agents.local_images import RECIPES
from apps.agents.models import Agent
from apps.agents.services import manager_token_rotate
from apps.images.choices import CpuAllocationMethod
from apps.images.models import GIB, Image
from tests.servers import running_daphne
from tests.workers import Workers, wait_for

BUSYBOX, DESKTOP = RECIPES


@pytest.fixture
def platform(live_database_url, redis_url, docker_url, built_images):
    """Manager worker, the local agent worker and daphne, all on the test database."""
    token = manager_token_rotate(grace=timedelta(minutes=5))
    env = {"DATABASE_URL": live_database_url, "REDIS_URL": redis_url, "AGENT_CHECKIN_INTERVAL": "2"}
    workers = Workers(env)
    workers.start("manager", "-m", "celery", "-A", "kasm", "worker", "-Q", "manager", "-c", "2", "-n", "mgr-s@%h")
    command = ["manage.py", "run_agent", "--name", "local", "--docker-url", docker_url, "--concurrency", "4"]
    workers.start("agent", *command, env={"MANAGER_TOKEN": token})
    wait_for(lambda: Agent.objects.filter(hostname="local", status=AgentStatus.ONLINE).exists(), what="agent online")
    with running_daphne(env) as base_url:
        yield base_url
    workers.stop_all()


@pytest.fixture
def busybox_image():
    return Image.objects.create(
        docker_image=BUSYBOX.tag,
        friendly_name="Busybox",
        cores=0.5,
        memory=GIB // 8,
        cpu_allocation_method=CpuAllocationMethod.QUOTAS,
    )


@pytest.fixture
def desktop_image():
    return Image.objects.create(docker_image=DESKTOP.tag, friendly_name="Desktop", cores=1, memory=GIB)
