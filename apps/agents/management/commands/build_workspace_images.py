import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.agents.local_images import RECIPES, local_image_build, local_image_register
from apps.agents.runtime.docker import DockerError


class Command(BaseCommand):
    help = "Build the local workspace images (only those whose recipe changed) and register them as Images."

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", help=f"Recipes to build (default: all of {[r.name for r in RECIPES]}).")
        parser.add_argument("--force", action="store_true", help="Rebuild even when the recipe is unchanged.")
        parser.add_argument("--docker-url", default=settings.DOCKER_URL)

    def handle(self, *args, names, force, docker_url, **options):
        unknown = set(names) - {recipe.name for recipe in RECIPES}
        if unknown:
            raise CommandError(f"Unknown recipe(s): {', '.join(sorted(unknown))}.")
        for recipe in RECIPES:
            if names and recipe.name not in names:
                continue
            started = time.monotonic()
            try:
                outcome = local_image_build(recipe, docker_url=docker_url, force=force)
            except DockerError as error:
                raise CommandError(str(error)) from None
            local_image_register(recipe)
            verb = f"built in {time.monotonic() - started:.1f} s" if outcome.built else "up to date"
            self.stdout.write(f"{recipe.tag}: {verb}")
