from datetime import timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.agents.models import ManagerToken
from apps.agents.services import manager_token_is_valid, manager_token_rotate, manager_token_write
from apps.common.runtime_settings import runtime_setting


class Command(BaseCommand):
    help = (
        "Manage the token agents present to the manager. --rotate prints a new token; the previous one "
        "keeps working for the grace window so agents can be re-configured."
    )

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--rotate", action="store_true", help="Issue a new token and print it (once).")
        action.add_argument("--ensure-file", type=Path, help="Write a valid token to this file unless it has one.")
        action.add_argument(
            "--list", action="store_true", dest="show_list", help="List tokens and when they stop working."
        )
        parser.add_argument(
            "--grace-minutes", type=int, help="Default: the MANAGER_TOKEN_GRACE_MINUTES setting (console, Settings)."
        )

    def handle(self, *args, rotate, ensure_file, show_list, grace_minutes, **options):
        if grace_minutes is None:
            grace_minutes = runtime_setting("MANAGER_TOKEN_GRACE_MINUTES")
        if grace_minutes < 0:
            raise CommandError("--grace-minutes cannot be negative.")
        grace = timedelta(minutes=grace_minutes)
        if rotate:
            self.stdout.write(manager_token_rotate(grace=grace))
        elif ensure_file:
            if not (ensure_file.exists() and manager_token_is_valid(ensure_file.read_text().strip())):
                manager_token_write(ensure_file, manager_token_rotate(grace=grace))
                self.stdout.write(f"Wrote a new manager token to {ensure_file}.")
        else:
            for token in ManagerToken.objects.all():
                until = f"valid until {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else "current"
                self.stdout.write(f"{token.created_at:%Y-%m-%d %H:%M} UTC  {until}")
