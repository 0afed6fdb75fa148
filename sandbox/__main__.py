"""`python -m sandbox`: both outside systems on localhost (Shopify on 8701, Consinco on 8702).

The Shopify emulator is imported lazily (sandbox.shopify.runner) so this entrypoint never
depends on it at import time; when it is missing the command says so and stops (or, with
--allow-missing, serves the Consinco sandbox alone).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import threading
from typing import Any

from sandbox.consinco.runner import DEFAULT_PORT as CONSINCO_PORT
from sandbox.consinco.runner import serve_in_thread as serve_consinco

SHOPIFY_PORT = 8701


def _shopify_runner() -> Any | None:
    try:
        module = importlib.import_module("sandbox.shopify.runner")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("sandbox.shopify"):
            return None
        raise
    return module if hasattr(module, "serve_in_thread") else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Start both sandboxes")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--shopify-port", type=int, default=SHOPIFY_PORT)
    parser.add_argument("--consinco-port", type=int, default=CONSINCO_PORT)
    parser.add_argument("--skus", type=int, default=5000)
    parser.add_argument("--companies", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--consinco-db", default=None)
    parser.add_argument(
        "--allow-missing",
        action="store_true",
        help="serve the Consinco sandbox alone when the Shopify one is not available",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    runner = _shopify_runner()
    if runner is None:
        print(
            "python -m sandbox: the Shopify sandbox is not available (sandbox.shopify.runner.serve_in_thread "
            "not found).",
            file=sys.stderr,
        )
        if not args.allow_missing:
            print(
                "Start the Consinco sandbox alone with `python -m sandbox.consinco --port 8702`, or pass "
                "--allow-missing.",
                file=sys.stderr,
            )
            return 1
    handles = []
    try:
        if runner is not None:
            shopify = runner.serve_in_thread(port=args.shopify_port)
            handles.append(shopify)
            print(f"Shopify sandbox:  {shopify.url}", flush=True)
        consinco = serve_consinco(
            port=args.consinco_port,
            host=args.host,
            db=args.consinco_db,
            skus=args.skus,
            companies=args.companies,
            seed=args.seed,
        )
        handles.append(consinco)
        print(f"Consinco sandbox: {consinco.url}  (control: {consinco.root}_sandbox/estado)", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        for handle in reversed(handles):
            handle.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
