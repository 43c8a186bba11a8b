"""Parse a registry's `versions.txt` and `list.json` (schema 1.0) into plain, validated values.

Real registries are messy, so one bad entry never hides the others: each invalid workspace is
reported with its reason and the valid ones are kept. Nothing here raises anything but
`RegistryFormatError` (the whole document is unusable) or returns entry errors.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field

from apps.common.errors import ApplicationError
from apps.images.choices import CpuAllocationMethod, StreamProtocol
from apps.registry.flags import workspace_flags

SUPPORTED_SCHEMA_VERSIONS = ("1.0",)
# Assumed for a site without versions.txt, and what build-site writes.
DEFAULT_SCHEMA_VERSION = "1.0"
# Older registries spell some fields differently; the first name is the one we keep.
FIELD_ALIASES = {
    "image": "name",
    "icon": "image_src",
    "config_override": "run_config",
    "cpu_allocation": "cpu_allocation_method",
}
TEXT_FIELDS = ("description", "image_src", "docker_registry", "notes", "sha", "image_type")
LIST_FIELDS = ("categories", "architecture", "compatibility")
NUMBER_FIELDS = ("cores", "memory", "gpu_count", "uncompressed_size_mb")
BOOL_FIELDS = ("enabled", "require_gpu")
MAX_TEXT_LENGTH = 10_000


class RegistryFormatError(ApplicationError):
    """The document is not a registry we can read at all."""


class EntryError(ValueError):
    """One workspace entry is invalid; the message says why."""


@dataclass(frozen=True)
class RegistryListing:
    name: str
    description: str
    icon: str
    list_url: str
    contact_url: str
    modified: int | None
    workspaces: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)


def schema_version_choose(versions_text: str) -> str:
    """The newest schema version listed in versions.txt that we support."""
    listed = {line.strip().rstrip("/") for line in versions_text.splitlines() if line.strip()}
    supported = [version for version in SUPPORTED_SCHEMA_VERSIONS if version in listed]
    if not supported:
        shown = ", ".join(sorted(listed)[:5]) or "nothing"
        raise RegistryFormatError(
            f"The registry's versions.txt lists {shown}; this platform reads schema "
            f"{', '.join(SUPPORTED_SCHEMA_VERSIONS)}."
        )
    return max(supported, key=lambda version: tuple(int(part) for part in version.split(".")))


def registry_listing_parse(raw: bytes | str) -> RegistryListing:
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        raise RegistryFormatError("The registry's list.json is not valid JSON.") from None
    if not isinstance(document, dict) or not isinstance(document.get("workspaces"), list):
        raise RegistryFormatError("This is not a workspace registry: list.json has no 'workspaces' array.")
    workspaces, errors, occurrences = [], [], Counter()
    for index, entry in enumerate(document["workspaces"]):
        try:
            workspace = workspace_entry_parse(entry)
        except EntryError as error:
            errors.append({"index": index, **_entry_names(entry), "error": str(error)})
            continue
        # Variants of one image (e.g. with and without a GPU) are separate workspaces, told apart by order.
        occurrences[workspace["name"]] += 1
        count = occurrences[workspace["name"]]
        workspace["key"] = workspace["name"] if count == 1 else f"{workspace['name']}#{count}"
        workspaces.append(workspace)
    return RegistryListing(
        name=_optional_text(document, "name"),
        description=_optional_text(document, "description"),
        icon=_optional_text(document, "icon"),
        list_url=_optional_text(document, "list_url"),
        contact_url=_optional_text(document, "contact_url"),
        modified=_optional_int(document.get("modified")),
        workspaces=workspaces,
        errors=errors,
    )


def workspace_entry_parse(entry: object) -> dict:
    """A workspace in canonical form (our field names, checked types) with its security flags."""
    if not isinstance(entry, dict):
        raise EntryError(f"an entry must be a JSON object, not {_json_type(entry)}")
    entry = _with_current_field_names(entry)
    workspace = {
        "name": _required_text(entry, "name"),
        "friendly_name": _required_text(entry, "friendly_name"),
    }
    for name in TEXT_FIELDS:
        workspace[name] = _text(entry, name)
    for name in LIST_FIELDS:
        workspace[name] = _text_list(entry, name)
    for name in NUMBER_FIELDS:
        if entry.get(name) is not None:
            workspace[name] = _number(entry, name)
    for name in BOOL_FIELDS:
        if entry.get(name) is not None:
            workspace[name] = _boolean(entry, name)
    workspace["cpu_allocation_method"] = _cpu_allocation_method(entry)
    workspace["stream_protocol"] = _stream_protocol(entry)
    workspace["run_config"] = _run_config(entry)
    workspace["exec_config"] = _exec_config(entry)
    workspace["flags"] = workspace_flags(run_config=workspace["run_config"], exec_config=workspace["exec_config"])
    return workspace


def _with_current_field_names(entry: dict) -> dict:
    """Older spellings fill a field only when the current name is absent."""
    renamed = {key: value for key, value in entry.items() if key not in FIELD_ALIASES}
    for old, current in FIELD_ALIASES.items():
        if old in entry:
            renamed.setdefault(current, entry[old])
    return renamed


def _required_text(entry: dict, name: str) -> str:
    value = entry.get(name)
    if not isinstance(value, str) or not value.strip():
        raise EntryError(f"'{name}' is required and must be a non-empty string")
    if len(value) > 255:
        raise EntryError(f"'{name}' is longer than 255 characters")
    return value.strip()


def _text(entry: dict, name: str) -> str:
    value = entry.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise EntryError(f"'{name}' must be a string, not {_json_type(value)}")
    return value[:MAX_TEXT_LENGTH]


def _text_list(entry: dict, name: str) -> list[str]:
    value = entry.get(name)
    if value is None:
        return []
    if isinstance(value, str):  # a single value where a list was meant
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise EntryError(f"'{name}' must be a list of strings")
    return [item.strip()[:100] for item in value if item.strip()]


def _number(entry: dict, name: str) -> float | int:
    value = entry[name]
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise EntryError(f"'{name}' must be a number, not {value[:40]!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise EntryError(f"'{name}' must be a number of at least 0")
    return int(value) if float(value).is_integer() else float(value)


def _boolean(entry: dict, name: str) -> bool:
    value = entry[name]
    if not isinstance(value, bool):
        raise EntryError(f"'{name}' must be true or false")
    return value


def _cpu_allocation_method(entry: dict) -> str:
    value = entry.get("cpu_allocation_method")
    if value is None or value == "":
        return "Inherit"
    if not isinstance(value, str) or value.lower() not in CpuAllocationMethod.values:
        raise EntryError("'cpu_allocation_method' must be Inherit, Quotas or Shares")
    return CpuAllocationMethod(value.lower()).kasm_name


def _stream_protocol(entry: dict) -> str:
    """Our extension: Kasm registries list KasmVNC images, so that is the default."""
    value = entry.get("stream_protocol") or StreamProtocol.KASMVNC
    if value not in StreamProtocol.values:
        raise EntryError(f"'stream_protocol' must be one of {', '.join(StreamProtocol.values)}")
    return value


def _run_config(entry: dict) -> dict:
    return _json_object(entry, "run_config")


def _exec_config(entry: dict) -> dict:
    value = _json_object(entry, "exec_config")
    for event, hook in value.items():
        if not isinstance(hook, dict) or not isinstance(hook.get("cmd", ""), str):
            raise EntryError(f"exec_config '{event}' must be an object with a 'cmd' string")
    return value


def _json_object(entry: dict, name: str) -> dict:
    value = entry.get(name)
    if value is None or value == "":
        return {}
    if isinstance(value, str):  # some registries store the JSON as a string
        value = _json_object_from_text(value, name)
    if not isinstance(value, dict):
        raise EntryError(f"'{name}' must be a JSON object, not {_json_type(value)}")
    return value


def _json_object_from_text(text: str, name: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise EntryError(f"'{name}' is a string that is not JSON") from None


def _optional_text(document: dict, name: str) -> str:
    value = document.get(name)
    return value[:MAX_TEXT_LENGTH] if isinstance(value, str) else ""


def _optional_int(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return int(value)


def _entry_names(entry: object) -> dict:
    """What an invalid entry calls itself, as far as it can be read."""
    names = {"name": "", "friendly_name": ""}
    if isinstance(entry, dict):
        for key, alias in (("name", "image"), ("friendly_name", "friendly_name")):
            value = entry.get(key, entry.get(alias))
            names[key] = value[:200] if isinstance(value, str) else ""
    return names


def _json_type(value: object) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def registry_url_normalize(url: str) -> str:
    """The registry's base URL, ending in '/', from what an admin pasted (maybe with '1.0/' or list.json)."""
    url = url.strip()
    url = re.sub(r"(/list\.json)$", "", url)
    url = re.sub(r"/\d+\.\d+/?$", "", url)
    return url.rstrip("/") + "/"
