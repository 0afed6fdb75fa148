"""Browser fixtures: both sandboxes, the whole app on a free port, and Debian's Chromium.

The Shopify sandbox, the Consinco sandbox, the app server and Chromium start once per session;
each test gets a truncated ledger (the `database_url` fixture) and a flushed Redis, so the app
installs the shop again by token exchange on the page's first call. Shopify's CDN scripts are
routed to the app's local stand-ins with `page.route`, exactly as the brief of the stand-ins
says; nothing is downloaded.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import redis
from werkzeug.serving import make_server

from app import create_app
from ledger import db as ledger_db
from ledger import kv
from sandbox.mail import MailServer
from settings import ROOT, Settings
from shopify_app.frontend import APP_BRIDGE_CDN, POLARIS_CDN, STATIC_DIR

# Debian's chromium-headless-shell (Chromium's old headless mode, the build Playwright itself runs
# headless) when installed: the same Blink, without the full browser behind it, at about a third of
# its CPU (docs/benchmarks.md, "The test suite's time"); else the full Chromium in its new headless mode.
CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH")
CHROMIUMS = ("chromium-headless-shell", "chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
API_KEY = "browser-test-key"
API_SECRET = "browser-test-secret-at-least-32-bytes-long"
SHOP = "mercado-teste"
SHOP_DOMAIN = f"{SHOP}.myshopify.com"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
# How long an expectation waits for the page to get there (a shared, busy CI machine is slow);
# expectations wait for a condition, they never sleep.
WAIT_MS = 20_000


@dataclasses.dataclass
class Stack:
    """Everything a browser test talks to."""

    app_url: str
    settings: Settings
    shopify: Any  # sandbox.shopify.runner.SandboxHandle
    consinco: Any  # sandbox.consinco.runner.SandboxHandle
    mail: Any  # sandbox.mail.MailServer: the alert e-mails' server (SMTP_URL)

    def page_url(self, path: str = "/", user: str = "owner", locale: str = "pt-BR", **extra: str) -> str:
        """The URL Shopify's admin would frame, plus the sandbox staff member's handle."""
        query = {
            "shop": SHOP_DOMAIN,
            "host": "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvbWVyY2Fkby10ZXN0",
            "embedded": "1",
            "locale": locale,
            "sandbox_user": user,
            **extra,
        }
        return f"{self.app_url}{path}?{urlencode(query)}"


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if CHROMIUM_PATH:
        return CHROMIUM_PATH
    found = next((path for name in CHROMIUMS if (path := shutil.which(name))), None)
    if found is None:
        pytest.skip("Chromium is not installed: apt-get install -y chromium-headless-shell")
    return found


@pytest.fixture(scope="session")
def stack(pg_database_url: str, redis_server: Any) -> Iterator[Stack]:
    from sandbox.consinco.runner import serve_in_thread as serve_consinco
    from sandbox.shopify.runner import serve_in_thread as serve_shopify

    server = make_server("127.0.0.1", 0, None, threaded=True)
    app_url = f"http://127.0.0.1:{server.server_port}"
    shopify = serve_shopify(api_key=API_KEY, api_secret=API_SECRET, app_url=app_url)
    consinco = serve_consinco(skus=60, companies=3, segments=2, seed=7)
    mail = MailServer().start()
    # The worker-side clients (admin API client, ERP factory) read the environment: point it at
    # the same services as the app's settings, and put it back afterwards.
    environment = {
        "APP_ENV": "test",
        "SHOPIFY_API_KEY": API_KEY,
        "SHOPIFY_API_SECRET": API_SECRET,
        "SHOPIFY_APP_URL": app_url,
        "SHOPIFY_BASE_URL": shopify.url,
        "DATABASE_URL": pg_database_url,
        "REDIS_URL": redis_server.url,
        "CONSINCO_BASE_URL": consinco.url,
        "SMTP_URL": mail.url,
    }
    previous = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    kv.reset_clients()
    settings = Settings.from_env()
    app = create_app(settings)
    # The page references Shopify's real CDN scripts, as in production; _route_cdn answers them.
    app.config["FRONTEND_LOCAL_SCRIPTS"] = "0"
    # The live pages re-read every second instead of every 2-3 s: what a test waits for shows sooner.
    app.config["FRONTEND_POLL_MS"] = 1000
    server.app = app
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Stack(app_url, settings, shopify, consinco, mail)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        shopify.stop()
        consinco.stop()
        mail.stop()
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        kv.reset_clients()
        ledger_db.dispose_all()


@pytest.fixture
def fresh(stack: Stack, database_url: str, redis_server: Any) -> Stack:
    """The stack with an empty ledger and Redis: the shop installs again on the first page load."""
    redis.Redis.from_url(redis_server.url).flushall()
    return stack


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as playwright:
        shell = Path(chromium_path).name == "chromium-headless-shell"
        args = CHROMIUM_ARGS if shell else ["--headless=new", *CHROMIUM_ARGS]
        instance = playwright.chromium.launch(executable_path=chromium_path, args=args)
        yield instance
        instance.close()


def _route_cdn(page: Any) -> None:
    """Shopify's CDN is out of reach here: answer its two URLs with the local stand-ins."""
    for url, name in ((APP_BRIDGE_CDN, "app-bridge.js"), (POLARIS_CDN, "polaris.js")):
        page.route(url, _fulfil_with((STATIC_DIR / "stand-ins" / name).read_text(encoding="utf-8")))


def _fulfil_with(body: str) -> Callable[[Any], None]:
    def handler(route: Any) -> None:
        route.fulfill(status=200, content_type="text/javascript", body=body)

    return handler


@pytest.fixture
def open_page(browser: Any, fresh: Stack) -> Iterator[Callable[..., Any]]:
    """open_page(path, user=, locale=) -> a Playwright page showing the app, console errors kept."""
    contexts: list[Any] = []

    def _open(
        path: str = "/",
        user: str = "owner",
        locale: str = "pt-BR",
        timezone_id: str | None = None,
        clock: bool = False,
        **extra: str,
    ) -> Any:
        """`timezone_id`: the browser's own zone (the machine's when None); `clock`: Playwright's
        fake clock installed before the page loads (time flows, and `page.clock` can jump it)."""
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale=locale, timezone_id=timezone_id
        )
        contexts.append(context)
        context.set_default_timeout(WAIT_MS)
        page = context.new_page()
        page.errors = []  # type: ignore[attr-defined]
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        _route_cdn(page)
        if clock:
            page.clock.install()
        page.goto(fresh.page_url(path, user=user, locale=locale, **extra))
        page.wait_for_selector("body[data-role]", state="attached")  # the session is open
        return page

    yield _open
    for context in contexts:
        context.close()


def settled(page: Any) -> None:
    """Every section of the page has its data (no spinner left): a click then lands where it was
    aimed, not on a spot a section above, growing as its answer came, pushed the button away from."""
    from playwright.sync_api import expect

    expect(page.locator("s-spinner")).to_have_count(0)


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot to test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


API_CALL = """async ([method, path, body]) => {
  const response = await fetch(path, {
    method,
    headers: {"Authorization": `Bearer ${await shopify.idToken()}`, "Content-Type": "application/json"},
    body: body === null ? undefined : JSON.stringify(body),
  });
  return {status: response.status, body: await response.text()};
}"""


def api_call(page: Any, method: str, path: str, body: Any = None) -> dict[str, Any]:
    """Call the JSON API from inside the page, with the page's own ID token (as the page does)."""
    return page.evaluate(API_CALL, [method, path, body])


def connect_erp(page: Any, stack: Stack) -> None:
    """Save the sandbox ERP's connection through the API, as the Setup page would."""
    body = {"base_url": stack.consinco.url, "username": "ecommerce", "password": "consinco"}
    answer = api_call(page, "PUT", "/api/setup/erp-connection", body)
    assert answer["status"] == 200, answer
