"""The suite's own bookkeeping."""

from tests.conftest import ENGINE_INDEPENDENT, ROOT


def test_every_path_run_on_postgres_only_exists():
    """A renamed module must not drop out of the list unnoticed (it would then run twice, or a
    prefix could match another module)."""
    missing = [path for path in ENGINE_INDEPENDENT if not (ROOT / path).exists()]
    assert missing == []
