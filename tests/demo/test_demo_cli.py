"""`flask --app app demo`: the command's options become the demo's options."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

import jobs.demo
from jobs import demo_cli
from jobs.demo_stack import DemoOptions


@pytest.fixture
def cli_app() -> Flask:
    app = Flask("demo-cli-test")
    demo_cli.register(app)
    return app


def test_help_names_the_flags(cli_app):
    result = cli_app.test_cli_runner().invoke(args=["demo", "--help"])
    assert result.exit_code == 0, result.output
    for flag in ("--skus", "--no-wait", "--no-orders", "--port", "--burst", "--database"):
        assert flag in result.output


def test_flags_reach_the_demo(cli_app, monkeypatch, tmp_path: Path):
    seen: list[DemoOptions] = []
    monkeypatch.setattr(jobs.demo, "run_demo", lambda options, echo: seen.append(options))
    monkeypatch.setattr(demo_cli, "log_to_file", lambda path: None)
    args = ["demo", "--skus", "300", "--no-wait", "--no-orders", "--port", "0"]
    args += ["--database", str(tmp_path / "x.db")]
    result = cli_app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    [options] = seen
    assert (options.skus, options.wait, options.orders, options.app_port) == (300, False, False, 0)
    assert options.database_path == (tmp_path / "x.db").resolve()
    assert (options.companies, options.burst) == (3, 120)


def test_bad_sizes_are_refused(cli_app):
    result = cli_app.test_cli_runner().invoke(args=["demo", "--skus", "0"])
    assert result.exit_code != 0 and "--skus" in result.output
