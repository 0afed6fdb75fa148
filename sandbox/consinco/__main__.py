"""`python -m sandbox.consinco --port PORT [--skus N --companies N --seed S --db PATH --quantity-unit U
--discount-per D]`."""

from __future__ import annotations

import argparse
import logging

from sandbox.consinco.runner import DEFAULT_PORT, serve_forever


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.consinco",
        description="Consinco SmPedidoVendaAPI sandbox with a generated supermarket chain",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--skus", type=int, default=5000, help="SKUs in the catalogue (default 5000)")
    parser.add_argument("--companies", type=int, default=5, help="stores / companies (default 5)")
    parser.add_argument("--segments", type=int, default=2, help="sales segments, 2 or 3 (default 2)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument(
        "--db",
        default=None,
        help="SQLite file or SQLAlchemy URL (default: a temporary file); an existing chain there is reused",
    )
    parser.add_argument("--user", default="ecommerce")
    parser.add_argument("--password", default="consinco")
    parser.add_argument("--token-ttl", type=float, default=3600.0, help="token lifetime in seconds")
    parser.add_argument(
        "--quantity-unit",
        choices=("packaging", "base"),
        default="packaging",
        help="what order lines' qtdPedida/qtdAtendida count in the API: packagings (default) or base units",
    )
    parser.add_argument(
        "--discount-per",
        choices=("line", "packaging"),
        default="line",
        help="what an order line's vlrEmbDesconto is in the API: the line's (default) or one packaging's",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    serve_forever(
        port=args.port,
        host=args.host,
        db=args.db,
        skus=args.skus,
        companies=args.companies,
        segments=args.segments,
        seed=args.seed,
        user=args.user,
        password=args.password,
        token_ttl=args.token_ttl,
        quantity_unit=args.quantity_unit,
        discount_per=args.discount_per,
    )


if __name__ == "__main__":
    main()
