import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.registry.parser import (
    RegistryFormatError,
    registry_listing_parse,
    registry_url_normalize,
    schema_version_choose,
)
from tests.registry.sites import REAL_REGISTRIES, REAL_REGISTRY_COUNTS, workspace_entry


@pytest.mark.parametrize("folder", sorted(REAL_REGISTRY_COUNTS))
def test_every_workspace_of_the_real_registries_is_read(folder):
    listing = registry_listing_parse((REAL_REGISTRIES / folder / "1.0" / "list.json").read_bytes())
    assert len(listing.workspaces) == REAL_REGISTRY_COUNTS[folder]
    assert listing.errors == []
    assert listing.name


def test_variants_of_one_image_are_kept_apart_by_their_order():
    listing = registry_listing_parse((REAL_REGISTRIES / "Bortus-AI__kasm-registry/1.0/list.json").read_bytes())
    assert [w["key"] for w in listing.workspaces] == ["dockurr/windows", "dockurr/windows#2", "dockurr/windows:latest"]


def test_doctorfree_flags_privileged_ports_and_root_first_launch():
    listing = registry_listing_parse((REAL_REGISTRIES / "doctorfree__kasm-registry/1.0/list.json").read_bytes())
    by_image = {w["name"]: w["flags"] for w in listing.workspaces}
    assert {"property": "privileged", "flag": "privileged", "source": "run_config"} in by_image[
        "doctorwhen/kasm:appimage"
    ]
    assert {"property": "ports", "flag": "flag_property", "source": "run_config"} in by_image["doctorwhen/kasm:osint"]
    assert all({"property": "first_launch", "flag": "user", "source": "exec_config"} in f for f in by_image.values())


def test_malformed_entries_are_reported_and_the_valid_ones_kept():
    entries = [
        workspace_entry("good/one:1"),
        "not an object",
        {"friendly_name": "No image"},
        workspace_entry("bad/cores:1", cores="many"),
        workspace_entry("bad/categories:1", categories=[1, 2]),
        workspace_entry("bad/run:1", run_config=["privileged"]),
        workspace_entry("bad/exec:1", exec_config={"go": "echo hi"}),
        workspace_entry("bad/method:1", cpu_allocation_method="Turbo"),
        workspace_entry("good/two:1", description=None, categories="Single"),
    ]
    listing = registry_listing_parse(json.dumps({"name": "Messy", "workspaces": entries}))
    assert [w["name"] for w in listing.workspaces] == ["good/one:1", "good/two:1"]
    assert listing.workspaces[1]["categories"] == ["Single"]
    assert [error["index"] for error in listing.errors] == [1, 2, 3, 4, 5, 6, 7]
    assert "'name' is required" in listing.errors[1]["error"]
    assert listing.errors[1]["friendly_name"] == "No image"
    assert "'cores' must be a number" in listing.errors[2]["error"]


def test_older_field_spellings_are_read():
    entry = {"image": "old/style:1", "friendly_name": "Old", "icon": "old.png", "config_override": {"user": "root"}}
    workspace = registry_listing_parse(json.dumps({"workspaces": [entry]})).workspaces[0]
    assert (workspace["name"], workspace["image_src"]) == ("old/style:1", "old.png")
    assert workspace["flags"] == [{"property": "user", "flag": "user", "source": "run_config"}]


@pytest.mark.parametrize(
    "document",
    [b"<html>hello</html>", b"[]", b'{"name": "x"}', b'{"workspaces": {}}', b"\xff\xfe", b""],
)
def test_documents_that_are_not_registries_raise_a_format_error(document):
    with pytest.raises(RegistryFormatError):
        registry_listing_parse(document)


def test_newest_supported_schema_version_is_chosen():
    assert schema_version_choose("1.0\n1.1\nfeature_dependency_update\n") == "1.0"
    with pytest.raises(RegistryFormatError, match=r"reads schema 1\.0"):
        schema_version_choose("2.0\n")


@pytest.mark.parametrize(
    "pasted",
    [
        "https://example.org/kasm-registry",
        "https://example.org/kasm-registry/",
        "https://example.org/kasm-registry/1.0/",
        "https://example.org/kasm-registry/1.0/list.json",
        "  https://example.org/kasm-registry/1.0  ",
    ],
)
def test_registry_urls_are_normalised_to_the_site_root(pasted):
    assert registry_url_normalize(pasted) == "https://example.org/kasm-registry/"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)
entry_keys = st.sampled_from(
    [
        "name",
        "friendly_name",
        "image",
        "categories",
        "cores",
        "memory",
        "run_config",
        "exec_config",
        "sha",
        "cpu_allocation_method",
        "architecture",
        "uncompressed_size_mb",
        "enabled",
        "stream_protocol",
        "description",
    ]
)
entries = st.dictionaries(entry_keys, json_values, max_size=8)


@settings(max_examples=300, deadline=None)
@given(st.one_of(json_values, st.builds(lambda ws: {"workspaces": ws}, st.lists(entries | json_values, max_size=6))))
def test_random_json_only_ever_yields_workspaces_or_validation_errors(document):
    try:
        listing = registry_listing_parse(json.dumps(document))
    except RegistryFormatError:
        return
    for workspace in listing.workspaces:
        assert isinstance(workspace["name"], str) and workspace["name"]
        assert isinstance(workspace["run_config"], dict) and isinstance(workspace["flags"], list)
    assert len(listing.workspaces) + len(listing.errors) == len(document["workspaces"])


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_raise_anything_but_a_format_error(raw):
    with contextlib.suppress(RegistryFormatError):
        registry_listing_parse(raw)
