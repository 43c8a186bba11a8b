"""Docker names built from users' names: any username gives a name Docker accepts."""

import re

import pytest

from apps.agents.docker_names import docker_name_slug, session_container_name
from tests.personas import ALICE, CAROL, DAVE

DOCKER_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+\Z")


@pytest.mark.parametrize(
    ("username", "slug"),
    [
        (ALICE, "alice-example.com"),
        (DAVE, "o-brien-test-example.co.uk"),
        (CAROL, "zoe.muller-example.de"),
        ("日本語", "user"),
        ("-._leading", "leading"),
        ("x" * 200, "x" * 32),
    ],
)
def test_any_username_gives_a_valid_container_name(username, slug):
    assert docker_name_slug(username) == slug
    name = session_container_name(username=username, session_id="ab" * 16)
    assert DOCKER_NAME.match(name) and name == f"kasm-{slug}-{'ab' * 16}"
