"""The ledger: SQLAlchemy models and helpers every side shares (see models.py)."""
