"""Migrations are complete and apply from zero on both supported databases."""

import uuid

import psycopg
import pytest

from tests.conftest import run_manage


def test_models_and_migrations_agree(tmp_path):
    result = run_manage("makemigrations", "--check", "--dry-run", env={"KASM_DATA_DIR": str(tmp_path)}, check=False)
    assert result.returncode == 0, result.stdout


def test_migrations_apply_on_a_fresh_sqlite_file(tmp_path):
    database = tmp_path / "fresh.sqlite3"
    run_manage("migrate", "--noinput", env={"DATABASE_URL": f"sqlite:///{database}", "KASM_DATA_DIR": str(tmp_path)})
    result = run_manage("showmigrations", "--plan", env={"DATABASE_URL": f"sqlite:///{database}"})
    assert "[ ]" not in result.stdout and "workspace_sessions.0001_initial" in result.stdout


@pytest.fixture
def fresh_postgres_database(postgres_url):
    name = f"kasm_migrate_{uuid.uuid4().hex[:8]}"
    admin_url = postgres_url.replace("postgres://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_migrations_apply_on_a_fresh_postgres_database(fresh_postgres_database, tmp_path):
    env = {"DATABASE_URL": fresh_postgres_database, "KASM_DATA_DIR": str(tmp_path)}
    run_manage("migrate", "--noinput", env=env)
    result = run_manage("showmigrations", "--plan", env=env)
    assert "[ ]" not in result.stdout and "chat.0001_initial" in result.stdout
