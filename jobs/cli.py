"""CLI commands: `flask --app app worker` and `flask --app app cron`.

Both read REDIS_URL / DATABASE_URL from the environment like the web process, so the web,
workers and cron of one deployment share one Redis and one database.
"""

from __future__ import annotations

import click
from flask import Flask

from ledger.queues import QUEUE_NAMES


def register(app: Flask) -> None:
    @app.cli.command("worker")
    @click.option(
        "--queue",
        "-q",
        "queue_names",
        multiple=True,
        type=click.Choice(QUEUE_NAMES),
        help="queue to work (repeatable); default: all, webhooks and orders first",
    )
    @click.option("--burst", is_flag=True, help="stop when the queues are empty")
    @click.option(
        "--simple",
        is_flag=True,
        help="run jobs in this process (no fork): lower latency, recommended for orders and webhooks",
    )
    def worker_command(queue_names: tuple[str, ...], burst: bool, simple: bool) -> None:
        """Run an RQ worker on the named queues."""
        from jobs.worker import run_worker

        run_worker(queue_names or QUEUE_NAMES, burst=burst, simple=simple)

    @app.cli.command("cron")
    def cron_command() -> None:
        """Run RQ's cron scheduler with jobs.cron_config (the per-minute schedule tick)."""
        from rq.cron import CronScheduler

        from ledger.kv import get_redis

        scheduler = CronScheduler(connection=get_redis())
        scheduler.load_config_from_file("jobs.cron_config")
        scheduler.start()

    @app.cli.group("secrets")
    def secrets_group() -> None:
        """Stored secrets (Shopify tokens, ERP passwords)."""

    @secrets_group.command("rotate")
    def secrets_rotate_command() -> None:
        """Re-encrypt every stored secret with the first ENCRYPTION_KEY key (then the old key can go)."""
        from ledger.secrets_rotation import rotate_all

        done = rotate_all()
        click.echo(f"re-encrypted {done.rotated} secret(s) with the first key")
        for what in done.unreadable:
            click.echo(f"unreadable with every configured key: {what}", err=True)
        if done.unreadable:
            raise SystemExit(1)

    @app.cli.command("sweep-inbox")
    def sweep_command() -> None:
        """Enqueue webhook inbox rows that never reached Redis (the tick also does this)."""
        from jobs.inbox import SweepStopped, sweep

        try:
            enqueued = sweep()
        except SweepStopped as exc:  # rows still wait: not "enqueued 0", exit 0
            raise click.ClickException(str(exc)) from exc
        click.echo(f"enqueued {len(enqueued)} inbox rows")

    @app.cli.command("retention")
    def retention_command() -> None:
        """Delete now, whole, what is past its retention (INBOX_RETENTION_DAYS: processed webhook
        deliveries; STOCK_BATCH_RETENTION_DAYS: finished stock batch messages;
        UNLINKED_EVENT_RETENTION_DAYS: ERP events of orders linked to none of the shop's); the tick
        does it once an hour, at most 10 s at a time."""
        from jobs import retention
        from settings import get_settings

        settings = get_settings()
        for part in retention.PARTS:
            days = part.days(settings)
            if days <= 0:
                click.echo(f"{part.what}: kept (retention 0)")
            else:
                click.echo(f"{part.what} older than {days:g} days: {part.forget(days).gone} deleted")
