"""Writes of the registry app: add, update and remove registries; install workspaces from them."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.common.errors import ApplicationError, validation_problems
from apps.common.queues import task_enqueue
from apps.common.runtime_settings import runtime_setting
from apps.images.icons import ACCEPTED, icon_extension
from apps.images.models import Image
from apps.registry.fetcher import NotFound, RegistryFetchError, fetch_bytes, url_check_scheme
from apps.registry.flags import workspace_flags
from apps.registry.models import Registry, RegistryWorkspace
from apps.registry.parser import (
    DEFAULT_SCHEMA_VERSION,
    EntryError,
    RegistryFormatError,
    RegistryListing,
    registry_listing_parse,
    registry_url_normalize,
    schema_version_choose,
    workspace_entry_parse,
)
from apps.registry.selectors import image_fields_from_definition, registry_icon_url
from apps.registry.site import workspace_sha

logger = logging.getLogger(__name__)


def registry_fetch_listing(base_url: str) -> tuple[str, RegistryListing]:
    """Read versions.txt (when the site has one) and the newest supported list.json."""
    try:
        versions, _ = fetch_bytes(f"{base_url}versions.txt", max_bytes=64 * 1024)
    except NotFound:
        version = DEFAULT_SCHEMA_VERSION
    else:
        looks_like_html = versions.lstrip()[:1] == b"<"
        version = (
            DEFAULT_SCHEMA_VERSION if looks_like_html else schema_version_choose(versions.decode("utf-8", "replace"))
        )
    list_url = f"{base_url}{version}/list.json"
    try:
        body, content_type = fetch_bytes(list_url, max_bytes=settings.REGISTRY_MAX_LIST_BYTES)
    except NotFound:
        raise RegistryFetchError(f"{list_url} does not exist: this URL is not a workspace registry.") from None
    if "html" in content_type.lower() or body.lstrip()[:1] == b"<":
        raise RegistryFormatError(f"{list_url} returned an HTML page, not a registry's list.json: check the URL.")
    return version, registry_listing_parse(body)


def registry_add(*, url: str, auto_update: bool = False) -> Registry:
    """Add a registry after reading it successfully; a registry that cannot be read is not added."""
    base_url = registry_url_normalize(url)
    url_check_scheme(base_url)
    if Registry.objects.filter(url=base_url).exists():
        raise ApplicationError(f"The registry {base_url} is already added; use 'update' to refresh it.")
    version, listing = registry_fetch_listing(base_url)
    with transaction.atomic():
        registry = Registry.objects.create(url=base_url, auto_update=auto_update)
        _registry_apply_listing(registry, version, listing)
    return registry


def registry_update(*, registry: Registry) -> Registry:
    """Refresh the registry's list. A failure records the error and keeps the last good copy.

    Installed workspaces are never changed; they show that a newer definition exists instead.
    """
    if registry.is_first_party:
        registry.url = registry_url_normalize(settings.FIRST_PARTY_REGISTRY_URL)
    registry.last_attempt_at = timezone.now()
    try:
        version, listing = registry_fetch_listing(registry.url)
    except ApplicationError as error:
        registry.last_error = error.message
        registry.save(update_fields=["url", "last_attempt_at", "last_error", "updated_at"])
        raise
    with transaction.atomic():
        _registry_apply_listing(registry, version, listing)
    return registry


def _registry_apply_listing(registry: Registry, version: str, listing: RegistryListing) -> None:
    registry.name = (listing.name or urlsplit(registry.url).hostname or registry.url)[:200]
    registry.description = listing.description
    registry.icon_url = _web_url(registry.url, listing.icon)
    registry.list_url = _web_url(registry.url, listing.list_url)
    registry.contact_url = _web_url(registry.url, listing.contact_url)
    registry.schema_version = version
    registry.entry_errors = listing.errors
    registry.last_fetched_at = registry.last_attempt_at = timezone.now()
    registry.last_error = ""
    registry.save()
    listed = []
    for definition in listing.workspaces:
        workspace, _ = RegistryWorkspace.objects.update_or_create(
            registry=registry,
            entry_key=definition["key"],
            defaults={
                "docker_image": definition["name"],
                "friendly_name": definition["friendly_name"][:200],
                "description": definition["description"],
                "sha": definition["sha"][:128],
                "definition": {key: value for key, value in definition.items() if key not in {"flags", "key"}},
                "flags": definition["flags"],
            },
        )
        if workspace.installed_image_id is None:
            _link_existing_image(workspace)
        listed.append(workspace.pk)
    registry.workspaces.exclude(pk__in=listed).delete()


def _link_existing_image(workspace: RegistryWorkspace) -> None:
    """A workspace counts as installed when an Image already runs its Docker image."""
    images = Image.objects.filter(docker_image=workspace.docker_image)
    image = images.filter(source_registry_url=workspace.registry.url).first() or images.first()
    if image is not None:
        workspace.installed_image = image
        workspace.save(update_fields=["installed_image", "updated_at"])


def _web_url(base_url: str, value: str) -> str:
    """An absolute http(s) URL from a registry field, or '' for anything else (javascript:, data:...)."""
    if not value:
        return ""
    absolute = urljoin(base_url, value)
    return absolute if urlsplit(absolute).scheme in {"http", "https"} else ""


def registry_remove(*, registry: Registry) -> None:
    """Forget a registry and its list; workspaces installed from it stay installed."""
    registry.delete()


def registry_set_auto_update(*, registry: Registry, enabled: bool) -> None:
    registry.auto_update = enabled
    registry.save(update_fields=["auto_update", "updated_at"])


def registry_restore_first_party() -> Registry:
    """Add the first-party registry back (it is pre-installed; an admin may have removed it); its
    list is fetched in the background."""
    url = registry_url_normalize(settings.FIRST_PARTY_REGISTRY_URL)
    registry, _ = Registry.objects.update_or_create(
        is_first_party=True, defaults={"url": url, "auto_update": True, "name": "Kasm Local"}
    )
    task_enqueue("registry.update", str(registry.pk))
    return registry


def registries_refresh_stale(*, registries, older_than: timedelta) -> None:
    """As in Kasm, visiting the store updates registries with automatic updates, in the background,
    at most once per `older_than`."""
    stale_before = timezone.now() - older_than
    for registry in registries:
        if registry.auto_update and (registry.last_attempt_at is None or registry.last_attempt_at < stale_before):
            Registry.objects.filter(pk=registry.pk).update(last_attempt_at=timezone.now())
            task_enqueue("registry.update", str(registry.pk))


def registries_auto_update(*, now: datetime | None = None) -> list[tuple[Registry, str]]:
    """Update each registry with automatic updates on whose last attempt is older than the
    REGISTRY_AUTO_UPDATE_INTERVAL setting (runs every minute, so a changed interval applies at
    once): (registry, error or '') for each."""
    due_before = (now or timezone.now()) - timedelta(seconds=runtime_setting("REGISTRY_AUTO_UPDATE_INTERVAL"))
    outcomes = []
    due = Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lte=due_before)
    for registry in Registry.objects.filter(due, auto_update=True):
        try:
            registry_update(registry=registry)
        except ApplicationError as error:
            logger.warning("Automatic update of registry %s failed: %s", registry.url, error.message)
            outcomes.append((registry, error.message))
        else:
            outcomes.append((registry, ""))
    return outcomes


def workspace_definition_validate(definition: object) -> dict:
    """An admin-edited definition, checked like a registry entry; raises ApplicationError."""
    try:
        parsed = workspace_entry_parse(definition)
    except EntryError as error:
        raise ApplicationError(f"The workspace definition is invalid: {error}.") from None
    return {key: value for key, value in parsed.items() if key != "flags"}


def registry_workspace_install(
    *,
    workspace: RegistryWorkspace,
    reviewed_digest: str | None,
    definition: dict | None = None,
    confirm_flags: bool = False,
) -> Image:
    """Create an Image from a registry workspace (optionally as edited); agents then pull it.
    `reviewed_digest` is the digest of the definition the admin saw (None: install what is
    stored now, for the command line)."""
    if workspace.installed_image_id is not None:
        raise ApplicationError(f"'{workspace.friendly_name}' is already installed as a workspace.")
    _check_reviewed(workspace, reviewed_digest)
    definition = workspace_definition_validate(definition if definition is not None else workspace.definition)
    _check_flags_confirmed(workspace, definition, confirm_flags)
    image = Image(source_registry_url=workspace.registry.url, source_sha=workspace.sha)
    _image_apply_definition(image, definition, registry=workspace.registry)
    with transaction.atomic():
        image.save()
        workspace.installed_image = image
        workspace.save(update_fields=["installed_image", "updated_at"])
        task_enqueue("agents.dispatch_image_sync")
    return image


def registry_workspace_apply_update(
    *, workspace: RegistryWorkspace, reviewed_digest: str | None, confirm_flags: bool = False
) -> Image:
    """Bring an installed workspace to the registry's current definition (the one reviewed)."""
    image = workspace.installed_image
    if image is None:
        raise ApplicationError(f"'{workspace.friendly_name}' is not installed; install it instead.")
    _check_reviewed(workspace, reviewed_digest)
    definition = workspace_definition_validate(workspace.definition)
    _check_flags_confirmed(workspace, definition, confirm_flags)
    _image_apply_definition(image, definition, registry=workspace.registry)
    image.source_sha = workspace.sha
    image.save()
    task_enqueue("agents.dispatch_image_sync")
    return image


def _check_reviewed(workspace: RegistryWorkspace, reviewed_digest: str | None) -> None:
    """The definition must be the one the admin reviewed: a registry update (or an automatic one
    started by opening the store) may have changed it between the page and the click."""
    if reviewed_digest is not None and reviewed_digest != workspace_sha(workspace.definition):
        raise ApplicationError(
            f"The registry changed '{workspace.friendly_name}' after you opened it; review it again, then install."
        )


def _check_flags_confirmed(workspace: RegistryWorkspace, definition: dict, confirm_flags: bool) -> None:
    flags = workspace_flags(run_config=definition["run_config"], exec_config=definition["exec_config"])
    if flags and not confirm_flags:
        names = ", ".join(sorted({flag["property"] for flag in flags}))
        raise ApplicationError(
            f"'{workspace.friendly_name}' is flagged for review ({names}): review its configuration with "
            "Edit, then confirm the install."
        )


def _image_apply_definition(image: Image, definition: dict, *, registry: Registry) -> None:
    for name, value in image_fields_from_definition(image, definition).items():
        setattr(image, name, value)
    try:
        image.full_clean(exclude=["restrict_to_zone", "restrict_to_agent", "icon"])
    except ValidationError as error:
        raise ApplicationError(f"The workspace cannot be installed as defined: {validation_problems(error)}.") from None
    _image_copy_icon(image, definition["image_src"], registry_icon_url(registry, definition["image_src"]))


def _image_copy_icon(image: Image, image_src: str, icon_url: str) -> None:
    """Copy the registry's icon into our media, so the workspace keeps it if the registry goes away.
    Only a raster image is kept, named from its sniffed type; anything else (an SVG, an HTML page,
    a redirect to another host) is left where it is and the tile shows it from the registry's site."""
    if not icon_url:
        return
    try:
        body, _ = fetch_bytes(icon_url, max_bytes=settings.REGISTRY_MAX_ICON_BYTES, same_origin_redirects=True)
        extension = icon_extension(body)
        if extension is None:
            raise ApplicationError(f"{icon_url} is not a {ACCEPTED} image")
    except ApplicationError as error:
        logger.warning("Icon of %s not copied: %s", image.docker_image, error.message)
        image.icon_url = icon_url
        return
    image.icon.save(f"{image.hex_id}.{extension}", ContentFile(body), save=False)
