"""The flows' locks: `ledger.locks` (there since the web app takes the poller's lock too)."""

from ledger.locks import (  # noqa: F401
    FLOW_LOCK_TTL,
    RECORD_LOCK_TTL,
    DeadRunHoldsLock,
    LockBusy,
    flow_lock,
    is_locked,
    record_key,
    record_lock,
)
