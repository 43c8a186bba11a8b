#!/usr/bin/env bash
# The whole test suite: lint, import contracts, then pytest on Postgres (production), and on
# SQLite (the embedded default) every test whose behaviour can depend on the database engine
# (tests/conftest.py names the others). Services must answer (`make services` starts them).
# Extra arguments go to both pytest runs.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
export REDIS_URL=${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}
export KASM_DATA_DIR=${KASM_DATA_DIR:-$PWD/data/test}

ruff check .
ruff format --check .
lint-imports

echo "== pytest on Postgres"
DATABASE_URL=${TEST_DATABASE_URL:-postgres://kasm:kasm@127.0.0.1:5432/kasm} pytest "$@"

echo "== pytest on SQLite (tests that can depend on the database engine)"
DATABASE_URL="sqlite:///$KASM_DATA_DIR/kasm.sqlite3" pytest -m "not engine_independent" "$@"
