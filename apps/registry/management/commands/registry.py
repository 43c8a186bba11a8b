import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from apps.common.errors import ApplicationError
from apps.registry.models import Registry, RegistryWorkspace
from apps.registry.services import (
    registry_add,
    registry_remove,
    registry_restore_first_party,
    registry_update,
    registry_workspace_install,
)
from apps.registry.site import registry_site_build, workspace_sha


class Command(BaseCommand):
    help = "Workspace registries: add, update, list, install, remove; restore-first-party; build-site."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        add = actions.add_parser("add", help="Add a registry by URL (it is read first; nothing is added on error).")
        add.add_argument("url")
        add.add_argument("--auto-update", action="store_true", help="Update it automatically (off by default).")
        update = actions.add_parser("update", help="Update registries now (all when none is named).")
        update.add_argument("registries", nargs="*", metavar="NAME_OR_URL")
        listing = actions.add_parser("list", help="List the registries' workspaces.")
        listing.add_argument(
            "--json", dest="as_json", action="store_true", help="One JSON array of workspaces, for scripts."
        )
        install = actions.add_parser("install", help="Install a workspace as an Image.")
        install.add_argument("image", help="The workspace's Docker image, as the registry lists it.")
        install.add_argument("--registry", metavar="NAME_OR_URL", help="When several registries list the image.")
        install.add_argument("--confirm-flags", action="store_true", help="Install even though it is flagged.")
        install.add_argument(
            "--sha",
            dest="reviewed_digest",
            help="Install only if the definition still has this digest (`list --json`).",
        )
        remove = actions.add_parser("remove", help="Remove a registry (installed workspaces stay).")
        remove.add_argument("registry", metavar="NAME_OR_URL")
        actions.add_parser("restore-first-party", help="Add the first-party registry back.")
        site = actions.add_parser("build-site", help="Build a registry site from a folder of workspace.json files.")
        site.add_argument("source", type=Path)
        site.add_argument("output", type=Path)

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"handle_{action.replace('-', '_')}")(**options)
        except ApplicationError as error:
            raise CommandError(error.message) from None

    def handle_add(self, *, url, auto_update, **options):
        registry = registry_add(url=url, auto_update=auto_update)
        self.stdout.write(f"Added {registry.name} ({registry.url}): {registry.workspaces.count()} workspaces.")
        self._report_entry_errors(registry)

    def handle_update(self, *, registries, **options):
        targets = [self._registry(name) for name in registries] or list(Registry.objects.all())
        failures = []
        for registry in targets:
            try:
                registry_update(registry=registry)
            except ApplicationError as error:
                failures.append(f"{registry}: {error.message}")
                continue
            self.stdout.write(f"Updated {registry.name}: {registry.workspaces.count()} workspaces.")
            self._report_entry_errors(registry)
        if failures:
            raise CommandError(" | ".join(failures))

    def handle_list(self, *, as_json: bool, **options):
        rows = list_rows()
        if as_json:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        for row in rows:
            if "errors" in row:
                label = row["friendly_name"] or row["name"] or "(unnamed)"
                self.stdout.write(f"{row['registry']}: invalid entry {label}: {'; '.join(row['errors'])}")
                continue
            state = "installed" if row["installed"] else "available"
            flags = f" flags: {', '.join(f['property'] for f in row['flags'])}" if row["flags"] else ""
            self.stdout.write(f"{row['registry']}: {row['friendly_name']} ({row['name']}) {state}{flags}")

    def handle_install(self, *, image, registry, confirm_flags, reviewed_digest, **options):
        candidates = RegistryWorkspace.objects.filter(docker_image=image).select_related("registry")
        if registry:
            candidates = candidates.filter(registry=self._registry(registry))
        found = list(candidates[:2])
        if not found:
            raise CommandError(f"No registry lists '{image}'; see `manage.py registry list`.")
        if len(found) > 1:
            raise CommandError(f"Several registries list '{image}'; choose one with --registry.")
        installed = registry_workspace_install(
            workspace=found[0], reviewed_digest=reviewed_digest, confirm_flags=confirm_flags
        )
        self.stdout.write(f"Installed {installed.friendly_name} ({installed.docker_image}); agents will pull it.")

    def handle_remove(self, *, registry, **options):
        target = self._registry(registry)
        registry_remove(registry=target)
        self.stdout.write(f"Removed {target}.")

    def handle_restore_first_party(self, **options):
        registry = registry_restore_first_party()
        self.stdout.write(f"The first-party registry is {registry.url}; run `manage.py registry update` to fetch it.")

    def handle_build_site(self, *, source, output, **options):
        site = registry_site_build(source, output)
        self.stdout.write(f"Built {output}: {len(site.listing['workspaces'])} workspaces, {len(site.icons)} icons.")

    def _registry(self, name_or_url: str) -> Registry:
        matches = list(Registry.objects.filter(Q(name=name_or_url) | Q(url=name_or_url) | Q(url=name_or_url + "/"))[:2])
        if len(matches) != 1:
            problem = "No registry is" if not matches else "Several registries are"
            raise CommandError(f"{problem} named '{name_or_url}'; use its URL (see `manage.py registry list`).")
        return matches[0]

    def _report_entry_errors(self, registry: Registry) -> None:
        for entry in registry.entry_errors:
            self.stderr.write(f"  skipped entry #{entry['index']} {entry['name']}: {entry['error']}")


def list_rows() -> list[dict]:
    """The rows of `registry list --json`: every workspace, then each registry's invalid entries."""
    rows = []
    for registry in Registry.objects.prefetch_related("workspaces"):
        for workspace in registry.workspaces.all():
            rows.append(
                {
                    "registry": registry.name,
                    "name": workspace.docker_image,
                    "friendly_name": workspace.friendly_name,
                    "installed": workspace.installed_image_id is not None,
                    "flags": workspace.flags,
                    "sha": workspace_sha(workspace.definition),
                }
            )
        for entry in registry.entry_errors:
            rows.append(
                {
                    "registry": registry.name,
                    "name": entry["name"],
                    "friendly_name": entry["friendly_name"],
                    "installed": False,
                    "flags": [],
                    "errors": [entry["error"]],
                }
            )
    return rows
