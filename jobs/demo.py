"""`flask --app app demo`: the whole integration end to end on the sandboxes, in one process.

1. start both sandboxes, the embedded Redis, the app (werkzeug, threaded) and an RQ worker;
2. install the app in the sandbox shop and set it up through the embedded page's API;
3. the catalog: initial load, a burst of ERP changes, the sync, Shopify vs ERP compared;
4. orders: checkout in Shopify, into the ERP, separated (a cut, a weighed item), invoiced or
   cancelled in the ERP, and back on the Shopify order; the team's alert e-mail of what needs a
   person (the sandbox's mail server keeps it);
5. leave the app running (the embedded page's URL with a sandbox staff login) until Ctrl-C
   or SIGTERM (jobs.demo_signals), then stop every part it started.

Why one process: a fresh machine has no service installed, and a person should see one
command tell the whole story. Re-runnable: every run starts from a clean slate (jobs.demo_stack).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from jobs.demo_catalog import CatalogOutcome, run_catalog
from jobs.demo_setup import EmbeddedPage, SetupResult, install_and_configure
from jobs.demo_signals import shielded
from jobs.demo_stack import DemoOptions, Stack, start, start_cron
from ledger.db import session_scope
from ledger.models import Shop
from settings import Settings, get_settings

log = logging.getLogger(__name__)

Echo = Callable[[str], None]
LARGE_CHAIN = 2000


@dataclass
class DemoResult:
    """What each step produced: the tests assert on it, the console prints it."""

    app_url: str = ""
    shopify_url: str = ""
    erp_url: str = ""
    shop_id: int | None = None
    setup: SetupResult | None = None
    catalog: CatalogOutcome | None = None
    orders: Any = None  # jobs.demo_orders.OrdersOutcome
    alert: Any = None  # sandbox.mail.Received: the team's alert e-mail after the orders
    page_url: str = ""
    state_url: str = ""
    timings: dict[str, float] = field(default_factory=dict)


def heading(echo: Echo, number: int, text: str) -> None:
    echo("")
    echo(f"== {number}. {text}")


def page_url(app_url: str, shop_domain: str, user: str = "owner", locale: str = "pt-BR") -> str:
    """The embedded page as the sandbox admin would open it (shopify_app.frontend reads `shop`,
    `locale`; the App Bridge stand-in reads `sandbox_user`)."""
    return f"{app_url}/?shop={shop_domain}&sandbox_user={user}&locale={locale}"


def shop_id_of(domain: str) -> int:
    with session_scope() as session:
        shop_id = session.scalar(select(Shop.id).where(Shop.domain == domain))
    if shop_id is None:
        raise RuntimeError(f"{domain} is not in the ledger after the install")
    return shop_id


def run_demo(
    options: DemoOptions,
    echo: Echo,
    *,
    settings_factory: Callable[[], Settings] = get_settings,
    stop_event: threading.Event | None = None,
) -> DemoResult:
    """Run the five steps; stops everything it started before returning (also on failure)."""
    result = DemoResult()
    heading(echo, 1, "Starting the sandboxes, the embedded Redis, the app and a worker")
    started = time.monotonic()
    stack = start(options, settings_factory)
    try:
        result.app_url, result.shopify_url, result.erp_url = stack.app_url, stack.shopify.url, stack.erp.url
        for note in stack.notes:
            echo(f"  ({note})")
        echo(f"  Shopify sandbox   {stack.shopify.url}  (shop {stack.shop_domain})")
        echo(
            f"  Consinco sandbox  {stack.erp.url}  ({options.skus} SKUs, {options.companies} companies, "
            f"{options.segments} segments, seed {options.seed})"
        )
        echo(f"  the app           {stack.app_url}  (ledger {options.database_path})")
        echo(
            f"  RQ worker         pid {stack.worker.pid if stack.worker else '-'}; "
            f"logs in {options.log_path or '(not kept)'}"
        )
        echo(f"  this demo         pid {os.getpid()}: `kill {os.getpid()}` stops every part, now or later")
        said = " ".join(f"{key}={os.environ[key]}" for key in COMMAND_ENVIRONMENT if os.environ.get(key))
        echo(f"  a command against it, from another terminal: {said} flask --app app reconcile")
        result.timings["start"] = time.monotonic() - started
        _steps(stack, options, echo, result)
        result.page_url = page_url(stack.app_url, stack.shop_domain)
        result.state_url = f"{stack.shopify.url}/_sandbox/shops/{options.shop}"
        heading(echo, 5, "The app is running")
        took = ", ".join(f"{step} {seconds:.0f} s" for step, seconds in result.timings.items())
        echo(f"  (steps took: {took})")
        echo(f"  Embedded admin (sandbox owner login): {result.page_url}")
        echo("    other staff: &sandbox_user=gerente / estoquista; English: &locale=en")
        echo(f"  Shopify sandbox state page:           {result.state_url}")
        echo(f"  Consinco sandbox state:               {stack.erp.root}_sandbox/estado")
        if options.wait:
            stack.cron = start_cron(options.log_path)
            echo(f"  rq cron (pid {stack.cron.pid}) runs every flow on its schedule from now on")
            _wait(stop_event, echo)
            # RQ's warm shutdown lets a scheduled sync the worker is in finish: say so, or a
            # newcomer sees nothing happen for a few seconds and presses Ctrl-C again.
            echo("  Stopping: the worker finishes its current job first (at most 15 s) ...")
    finally:
        with shielded():  # a Ctrl-C or SIGTERM now must not cut the stop short
            stack.stop()
    return result


# What a command of README's table needs to work on the running demo: its ledger, its Shopify sandbox
# (else it would send the sandbox's token to the shop's real domain), its Redis (an embedded one's
# socket is new each run).
COMMAND_ENVIRONMENT = ("DATABASE_URL", "SHOPIFY_BASE_URL", "SHOPIFY_APP_URL", "REDIS_URL")


def _steps(stack: Stack, options: DemoOptions, echo: Echo, result: DemoResult) -> None:
    heading(echo, 2, f"Installing the app in {stack.shop_domain} and setting it up (as the embedded page)")
    started = time.monotonic()
    stack.shopify.sandbox.shops.ensure(options.shop)
    stack.shopify.sandbox.shops.set_tier(options.shop, "plus")  # a chain's store: Shopify Plus limits
    echo(f"  sandbox shop {stack.shop_domain} on the Plus API tier (20,000 points, 1,000/s)")
    page = EmbeddedPage(stack.app_url, stack.shopify.sandbox, options.shop)
    try:
        result.setup = install_and_configure(page, stack.erp.url, echo)
    finally:
        page.close()
    result.shop_id = shop_id_of(stack.shop_domain)
    result.timings["setup"] = time.monotonic() - started

    heading(echo, 3, f"Catalog: {options.skus} SKUs from the ERP to Shopify")
    if options.skus >= LARGE_CHAIN:
        echo("  (a large chain: each flow's first pass can take minutes; `--skus 300` is a one-minute tour)")
    started = time.monotonic()
    result.catalog = run_catalog(stack, result.shop_id, result.setup, echo, options.burst)
    result.timings["catalog"] = time.monotonic() - started

    heading(echo, 4, "Orders: Shopify checkout -> ERP -> separation, NF-e, cancellations -> Shopify")
    started = time.monotonic()
    if options.orders:
        from jobs.demo_orders import run_orders

        result.orders = run_orders(stack, result.shop_id, result.setup, echo)
        result.alert = _alert(stack, result.shop_id, echo)
    else:
        echo("  (skipped: --no-orders)")
    result.timings["orders"] = time.monotonic() - started


def _alert(stack: Stack, shop_id: int, echo: Echo) -> Any:
    """The team's alert e-mail after the orders (jobs.alerts, as the scheduler's tick starts it every
    ten minutes): what needs a person, as the sandbox's mail server received it; None: nothing."""
    from jobs import alerts

    if not alerts.run(shop_id).get("items") or not stack.mail.received:
        echo("  alert e-mail: nothing needs a person, none sent")
        return None
    email = stack.mail.received[-1]
    echo(f"  alert e-mail to {', '.join(email.rcpt_to)} (the sandbox's mail server): {email.subject}")
    for line in email.text.splitlines()[2:]:
        if line.startswith("-- "):
            break
        if line.strip():
            echo(f"    {line}")
    return email


def _wait(stop_event: threading.Event | None, echo: Echo) -> None:
    """Until `stop_event` is set, Ctrl-C, or SIGTERM / SIGHUP (jobs.demo_signals: DemoStopped).
    Says how to stop from within: a signal sent as soon as it is read is one this catches."""
    event = stop_event or threading.Event()
    try:
        echo("  Press Ctrl-C to stop.")
        echo(f"  (in the background: kill {os.getpid()}; SIGTERM, SIGINT and SIGHUP all stop every part)")
        while not event.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
