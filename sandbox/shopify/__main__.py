"""`python -m sandbox.shopify --port 8701`: the Shopify emulator on localhost."""

from __future__ import annotations

import argparse
import logging
import os

from sandbox.shopify.options import SandboxOptions
from sandbox.shopify.runner import serve_in_thread


def main(argv: list[str] | None = None) -> None:
    defaults = SandboxOptions()
    parser = argparse.ArgumentParser(prog="python -m sandbox.shopify", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("SANDBOX_SHOPIFY_PORT", "8701")))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--app-url", default=defaults.app_url, help="the app (env SHOPIFY_APP_URL)")
    parser.add_argument("--api-key", default=defaults.api_key, help="client id (env SHOPIFY_API_KEY)")
    parser.add_argument(
        "--api-secret", default=defaults.api_secret, help="client secret (env SHOPIFY_API_SECRET)"
    )
    parser.add_argument("--db", default=":memory:", help="SQLite file (default: in memory)")
    parser.add_argument(
        "--public-url", default="", help="how clients reach this emulator (default http://host:port)"
    )
    parser.add_argument(
        "--log-level", default="INFO", help="INFO logs every request; WARNING keeps benchmarks quiet"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    handle = serve_in_thread(
        port=args.port,
        host=args.host,
        app_url=args.app_url.rstrip("/"),
        api_key=args.api_key,
        api_secret=args.api_secret,
        db_path=args.db,
        public_url=args.public_url,
    )
    logging.getLogger(__name__).info("sandbox Shopify on %s (shops: Host {shop}.myshopify.com)", handle.url)
    try:
        handle.wait()
    except KeyboardInterrupt:
        handle.stop()


if __name__ == "__main__":
    main()
