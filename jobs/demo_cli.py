"""`flask --app app demo` (`make demo`): the click command around jobs.demo.run_demo.

Imports nothing heavy at registration: every `flask --app app ...` command loads this module.
"""

from __future__ import annotations

import logging
from pathlib import Path

import click
from flask import Flask

from settings import ROOT

DEFAULT_DATABASE = ROOT / "instance" / "demo.db"
DEFAULT_LOG = ROOT / "instance" / "demo.log"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_to_file(path: Path | None) -> None:
    """Send every log line to `path` so the console shows only the demo's story.

    create_app's basicConfig is a no-op once the root logger has a handler.
    """
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
            root.removeHandler(handler)
    path.write_text("", encoding="utf-8")  # a fresh log per run; the worker and cron append to it
    handler = logging.FileHandler(path, mode="a", encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def register(app: Flask) -> None:
    @app.cli.command("demo")
    @click.option(
        "--skus", default=5000, type=click.IntRange(min=1), show_default=True, help="SKUs in the ERP chain"
    )
    @click.option(
        "--companies",
        default=3,
        type=click.IntRange(1, 99),
        show_default=True,
        help="ERP companies (one Shopify location each)",
    )
    @click.option(
        "--burst", default=120, show_default=True, help="ERP changes applied after the initial load"
    )
    @click.option("--seed", default=7, show_default=True, help="seed of the generated chain")
    @click.option("--port", default=8000, show_default=True, help="the app's port (a free one if busy)")
    @click.option(
        "--shopify-port", default=8701, show_default=True, help="the Shopify sandbox's port (0: a free one)"
    )
    @click.option(
        "--erp-port", default=8702, show_default=True, help="the Consinco sandbox's port (0: a free one)"
    )
    @click.option("--no-orders", is_flag=True, help="stop after the catalog")
    @click.option(
        "--no-wait", is_flag=True, help="exit after printing the URLs instead of serving until Ctrl-C"
    )
    @click.option(
        "--log",
        "log_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=DEFAULT_LOG,
        show_default=True,
        help="where the app's, the worker's and rq cron's log lines go (recreated on every run)",
    )
    @click.option(
        "--database",
        type=click.Path(dir_okay=False, path_type=Path),
        default=DEFAULT_DATABASE,
        show_default=True,
        help="the demo's SQLite ledger (recreated on every run)",
    )
    def demo_command(
        skus: int,
        companies: int,
        burst: int,
        seed: int,
        port: int,
        shopify_port: int,
        erp_port: int,
        no_orders: bool,
        no_wait: bool,
        log_path: Path,
        database: Path,
    ) -> None:
        """The whole integration end to end on the sandboxes (SQLite, embedded Redis, no service needed).

        Ctrl-C, SIGTERM or SIGHUP (also in the background, where the shell ignores SIGINT for it)
        stop every part it started before it exits."""
        log_path = log_path.resolve()
        log_to_file(log_path)  # before the imports below: alembic logs as it loads
        from jobs.demo import run_demo
        from jobs.demo_signals import DemoStopped, stop_on_signals
        from jobs.demo_stack import DemoOptions

        options = DemoOptions(
            skus=skus,
            companies=companies,
            burst=burst,
            seed=seed,
            app_port=port,
            shopify_port=shopify_port,
            erp_port=erp_port,
            database_path=database.resolve(),
            orders=not no_orders,
            wait=not no_wait,
            log_path=log_path,
        )
        with stop_on_signals():
            try:
                run_demo(options, click.echo)
            except DemoStopped as stopped:  # before it finished: everything started is stopped
                click.echo(f"  Stopped by {stopped.name}; every part the demo started is stopped.")
                raise SystemExit(128 + stopped.signum) from None
