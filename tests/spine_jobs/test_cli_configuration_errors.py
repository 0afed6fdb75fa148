"""`flask --app app ...` on a configuration it cannot run: one line naming what is wrong, exit 1.

README: the app refuses to start "naming what is missing"; on the command line that is
`Error: <why>`, not a traceback ending in a bare FileNotFoundError or `no such table: shops`.
Each case runs the real `flask` command in a subprocess, as an operator types it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.schema import upgrade
from settings import ROOT

_REDIS: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _test_redis(redis_server):
    """The commands use the tests' Redis: without REDIS_URL a command would start the embedded one
    in this checkout's instance folder and, stopped by its error, leave that server running."""
    _REDIS["url"] = redis_server.url


def _flask(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("APP_", "SHOPIFY_", "ENCRYPTION", "LOG_", "CONSINCO_", "ERP_", "REDIS_"))
    }
    environ.pop("PYTHONPATH", None)
    environ.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}", "REDIS_URL": _REDIS["url"], **env})
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), lines
    return lines[0]


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"APP_ENV": "prod"}, "APP_ENV"),
        ({"APP_ENV": "production"}, "SHOPIFY_API_KEY"),
        ({"LOG_LEVEL": "verbose"}, "LOG_LEVEL"),
        ({"ERP_TIMEZONE": "Brasilia"}, "ERP_TIMEZONE"),
        ({"CONSINCO_FIELD_MAP": "/nonexistent/field-map.json"}, "CONSINCO_FIELD_MAP"),
    ],
)
def test_a_configuration_error_is_one_line_naming_the_variable(tmp_path, env, named):
    assert named in _one_line_error(_flask(["sweep-inbox"], tmp_path, **env))


@pytest.mark.parametrize(
    ("env", "named"),
    [({"APP_ENV": "production"}, "SHOPIFY_API_KEY"), ({"LOG_LEVEL": "verbose"}, "LOG_LEVEL")],
)
@pytest.mark.parametrize("args", [["--help"], ["catalog", "--help"], ["routes"]])
def test_help_and_flasks_own_commands_say_the_configuration_error_in_one_line(tmp_path, env, named, args):
    """`flask --app app --help` loads the app to list its commands: Flask prints any error doing so as
    a traceback and lists only its own commands, exit 0. The same one line as every command instead."""
    assert named in _one_line_error(_flask(args, tmp_path, **env))


@pytest.mark.parametrize("content", ["{not json", '{"formats": {"quantity_unit": "bse"}}', '{"pathz": {}}'])
def test_a_field_map_that_cannot_be_used_is_named_with_its_problem(tmp_path, content):
    field_map = tmp_path / "names.json"
    field_map.write_text(content, encoding="utf-8")
    line = _one_line_error(_flask(["catalog", "diff"], tmp_path, CONSINCO_FIELD_MAP=str(field_map)))
    assert line.startswith("Error: CONSINCO_FIELD_MAP: ")


@pytest.mark.parametrize("args", [["sweep-inbox"], ["catalog", "diff"], ["reconcile"]])
def test_an_unmigrated_database_says_which_command_creates_it(tmp_path, args):
    line = _one_line_error(_flask(args, tmp_path))
    assert "alembic upgrade head" in line and "DATABASE_URL" in line


def test_an_unmigrated_postgresql_database_says_so_too(tmp_path, empty_pg_database_url):
    line = _one_line_error(_flask(["reconcile"], tmp_path, DATABASE_URL=empty_pg_database_url))
    assert "no shops table" in line and "alembic upgrade head" in line


def test_gunicorn_stops_on_a_field_map_it_cannot_read_with_the_message(tmp_path):
    """gunicorn loads the app in its master (preload_app): the start fails, the variable named."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("APP_", "CONSINCO_", "REDIS_"))}
    environ.pop("PYTHONPATH", None)
    environ.update(DATABASE_URL=f"sqlite:///{tmp_path / 'ledger.db'}", CONSINCO_FIELD_MAP="/nonexistent.json",
                   PORT="0", REDIS_URL=_REDIS["url"])  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:create_app()"],
        cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0
    assert "Error: CONSINCO_FIELD_MAP: cannot read /nonexistent.json" in done.stderr, done.stderr[-2000:]


def test_a_migrated_database_runs_the_command(tmp_path):
    """The same command on a migrated ledger: no refusal."""
    upgrade(f"sqlite:///{tmp_path / 'ledger.db'}")
    done = _flask(["catalog", "diff"], tmp_path)
    assert "no active shop" in done.stderr and "Traceback" not in done.stderr, done.stderr[-2000:]


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("database", ["refused", "absent"])
def test_a_database_that_cannot_be_reached_is_one_line_naming_the_variable(tmp_path, database):
    url = (
        f"postgresql://postgres@127.0.0.1:{_closed_port()}/ledger"
        if database == "refused"
        else "postgresql://postgres@127.0.0.1:5432/no_such_ledger_here"
    )
    line = _one_line_error(_flask(["retention"], tmp_path, DATABASE_URL=url))
    assert line.startswith("Error: the database at DATABASE_URL cannot be reached: "), line
    assert ("Connection refused" if database == "refused" else "no_such_ledger_here") in line, line


@pytest.mark.parametrize("args", [["worker", "--burst"], ["cron"]])
def test_a_redis_that_cannot_be_reached_is_one_line_naming_the_variable(tmp_path, args):
    upgrade(f"sqlite:///{tmp_path / 'ledger.db'}")
    done = _flask(args, tmp_path, REDIS_URL=f"redis://127.0.0.1:{_closed_port()}/0")
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    last = done.stderr.strip().splitlines()[-1]  # (rq's cron logs its start first)
    assert last.startswith("Error: Redis at REDIS_URL cannot be reached: "), done.stderr[-2000:]


@pytest.mark.parametrize("url", ["mysql://x@db/ledger", "postgresql+psycopg2://x@db/ledger"])
def test_a_database_url_of_a_driver_the_app_does_not_ship_is_refused_by_name(tmp_path, url):
    line = _one_line_error(_flask(["retention"], tmp_path, DATABASE_URL=url))
    assert line.startswith("Error: DATABASE_URL must start with postgresql://"), line
    assert url.split("://")[0] + "://" in line and "x@db" not in line, line
