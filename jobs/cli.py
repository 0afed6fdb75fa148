"""Placeholder CLI registration, replaced by its owner."""


def register(app) -> None:
    return None
