import json

from django.core.management.base import BaseCommand, CommandError

from apps.accounts.choices import ApiPermission
from apps.accounts.services import api_key_create, user_by_username
from apps.common.errors import ApplicationError


class Command(BaseCommand):
    help = "Create a Developer API key. Without --permission the key has full admin rights."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--user", help="Username that owns the key.")
        parser.add_argument(
            "--permission", action="append", dest="permissions", choices=ApiPermission.values, default=[]
        )
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print key and secret as JSON.")

    def handle(self, *args, name, user, permissions, as_json: bool, **options):
        try:
            owner = user_by_username(username=user) if user else None
            issued = api_key_create(name=name, owner=owner, permissions=permissions)
        except ApplicationError as error:
            raise CommandError(error.message) from None
        if as_json:
            self.stdout.write(json.dumps({"api_key": issued.api_key.key, "api_key_secret": issued.secret}))
        else:
            self.stdout.write(f"API key: {issued.api_key.key}\nSecret (shown once): {issued.secret}")
