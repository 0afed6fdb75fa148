"""`python -m bench <name> [options]` runs bench/<name>.py's main(argv); no name lists them."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def available() -> list[str]:
    return sorted(
        m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if not m.name.startswith("_")
    )


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in available():
        print("usage: python -m bench <name> [options]; benchmarks: " + ", ".join(available()))
        return 2
    module = importlib.import_module(f"bench.{argv[0]}")
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
