"""Resolver modules: every module in this package registers its fields when imported.

A new area (e.g. orders) is a new module here; `load_all()` imports it, nothing else to edit.
"""

from __future__ import annotations

import importlib
import pkgutil


def load_all() -> None:
    """Import every resolver module of this package (idempotent)."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
