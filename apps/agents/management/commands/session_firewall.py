from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.agents.runtime.docker import DockerError
from apps.agents.session_network import (
    blocked_destinations,
    firewall_commands,
    session_network,
    session_network_prepare,
)


class Command(BaseCommand):
    help = (
        "The firewall rules that keep session containers away from this host and the control plane: "
        "print them as iptables commands (to apply as root where the agent does not run as root), or apply them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--docker-url", default=settings.DOCKER_URL)
        parser.add_argument("--apply", action="store_true", help="Create the network and apply the rules (root).")

    def handle(self, *args, docker_url, apply, **options):
        try:
            network = session_network_prepare(docker_url) if apply else session_network(docker_url)
        except DockerError as error:
            raise CommandError(str(error)) from None
        if not apply:
            for command in firewall_commands(network.interface, blocked_destinations()):
                self.stdout.write(" ".join(command))
