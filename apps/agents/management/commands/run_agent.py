import os
import re
import shutil
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.agents.identity import agent_credential_load_or_create
from apps.common.queues import AGENTS_BROADCAST_QUEUE, agent_queue_name

AGENT_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


class Command(BaseCommand):
    help = "Run the agent worker of this Docker host: a Celery worker on the agent's own queue and the broadcast."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="Agent name, unique among agents (e.g. the hostname).")
        parser.add_argument("--docker-url", default=settings.DOCKER_URL)
        parser.add_argument("--address", default="127.0.0.1", help="Address the manager reaches this host at.")
        parser.add_argument("--token-file", type=Path, help="File holding the manager token (or set MANAGER_TOKEN).")
        parser.add_argument(
            "--credential-file",
            type=Path,
            help="This agent's own credential, made on first start (default: DATA_DIR/agent-credentials/NAME).",
        )
        parser.add_argument("--concurrency", type=int, default=2)

    def handle(self, *args, name, docker_url, address, token_file, credential_file, concurrency, **options):
        if not AGENT_NAME_PATTERN.match(name):
            raise CommandError(f"Agent name {name!r} is invalid; use letters, digits, '.', '_' or '-'.")
        token = token_file.read_text().strip() if token_file else settings.MANAGER_TOKEN
        if not token:
            raise CommandError("No manager token: pass --token-file or set MANAGER_TOKEN (manage.py manager_token).")
        celery = shutil.which("celery", path=os.path.dirname(sys.executable)) or shutil.which("celery")
        if celery is None:
            raise CommandError("The celery command is missing; install requirements.txt in this environment.")
        env = {**os.environ, "AGENT_NAME": name, "AGENT_ADDRESS": address, "DOCKER_URL": docker_url}
        env["MANAGER_TOKEN"] = token
        if token_file:  # re-read at each check-in: a rotation written there needs no restart
            env["MANAGER_TOKEN_FILE"] = str(token_file.resolve())
        credential_file = credential_file or settings.DATA_DIR / "agent-credentials" / name
        env["AGENT_CREDENTIAL"] = agent_credential_load_or_create(credential_file)
        queues = f"{agent_queue_name(name)},{AGENTS_BROADCAST_QUEUE}"
        argv = [celery, "-A", "kasm", "worker", "-Q", queues, "-n", f"agent-{name}@%h", "-c", str(concurrency)]
        os.execvpe(celery, [*argv, "--loglevel", "INFO"], env)  # noqa: S606  (becomes the worker)
