from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from apps.common.hashing import generate_secret


class Command(BaseCommand):
    help = "Create the first admin account and print its password once; do nothing when an admin exists."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username, **options):
        users = get_user_model().objects
        if users.filter(is_superuser=True).exists():
            self.stdout.write("Admin account exists (its password was printed when it was created).")
            return
        password = generate_secret(12)
        users.create_superuser(username=username, email="", password=password)
        self.stdout.write(f"Admin account created: username '{username}', password '{password}' (shown once).")
