"""Build a registry site (versions.txt, 1.0/list.json, 1.0/icons/) from a folder of workspace.json files.

The folder holds `registry.json` (the registry's name, description, icon, list_url, contact_url)
and one sub-folder per workspace with its `workspace.json` and the icon it names in `image_src`.
The first-party registry is this project's `registry/` folder, served at /registry/.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from apps.common.errors import ApplicationError
from apps.registry.parser import DEFAULT_SCHEMA_VERSION, EntryError, workspace_entry_parse


@dataclass(frozen=True)
class RegistrySite:
    listing: dict
    icons: dict[str, Path]  # icon file name -> source file


def registry_site_collect(source: Path) -> RegistrySite:
    """Read and validate the folder; raises ApplicationError naming the first bad file."""
    metadata = _read_json(source / "registry.json")
    workspaces, icons = [], {}
    for path in sorted(source.glob("workspaces/*/workspace.json")):
        workspace = _read_json(path)
        try:
            workspace_entry_parse(workspace)
        except EntryError as error:
            raise ApplicationError(f"{path}: {error}.") from None
        if workspace.get("image_src"):
            icon = _icon_path(path, workspace["image_src"])
            if icons.get(icon.name, icon) != icon:
                raise ApplicationError(f"{path}: another workspace publishes an icon named {icon.name}; rename one.")
            icons[icon.name] = icon
            workspace["image_src"] = icon.name  # published flat in icons/, under its own name only
        workspace["sha"] = workspace_sha(workspace)
        workspaces.append(workspace)
    modified = max((path.stat().st_mtime for path in source.rglob("*") if path.is_file()), default=time.time())
    listing = {
        **metadata,
        "modified": int(modified * 1000),
        "workspacecount": len(workspaces),
        "workspaces": workspaces,
    }
    return RegistrySite(listing=listing, icons=icons)


def _icon_path(definition: Path, image_src: object) -> Path:
    """The icon a workspace.json names: a regular file inside that workspace's folder, reached
    through no symbolic link, so a definition cannot publish any other file of the machine."""
    relative = Path(os.path.normpath(str(image_src)))
    icon = definition.parent.resolve() / relative
    escapes = relative.is_absolute() or relative.parts[:1] == ("..",)
    if escapes or icon.resolve() != icon or not icon.is_file():  # resolve() differs when a link is followed
        raise ApplicationError(
            f"{definition}: image_src must name an icon file in {definition.parent} (no '..', no symbolic link), "
            f"not '{image_src}'."
        )
    return icon


def workspace_sha(workspace: dict) -> str:
    """Content hash of a definition (without its sha): it changes exactly when the definition does."""
    canonical = json.dumps({k: v for k, v in workspace.items() if k != "sha"}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(canonical.encode(), usedforsecurity=False).hexdigest()


def registry_site_build(source: Path, output: Path) -> RegistrySite:
    site = registry_site_collect(source)
    icons_dir = output / DEFAULT_SCHEMA_VERSION / "icons"
    icons_dir.mkdir(parents=True, exist_ok=True)
    (output / "versions.txt").write_text(f"{DEFAULT_SCHEMA_VERSION}\n")
    (output / DEFAULT_SCHEMA_VERSION / "list.json").write_text(json.dumps(site.listing, indent=2) + "\n")
    for name, path in site.icons.items():
        shutil.copyfile(path, icons_dir / name)
    return site


def _read_json(path: Path) -> dict:
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise ApplicationError(f"{path} is missing.") from None
    except ValueError as error:
        raise ApplicationError(f"{path} is not valid JSON: {error}.") from None
    if not isinstance(document, dict):
        raise ApplicationError(f"{path} must hold a JSON object.")
    return document
