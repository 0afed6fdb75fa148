"""Units left pending whose job was lost: `stuck` in the API, "interrupted" on the pages.

One test, read once a request, both for the Flows dashboard's count of them (`counts_24h.stuck`)
and for the Messages list its link opens (`/api/messages?stuck=true`): were the count and the list
two tests, the count could say 1 while the list showed every pending message, the orders waiting
for their payment among them (dozens: the one interrupted row not even on the first page).

Stuck: left pending past trace.STALE_AFTER_SECONDS and not waiting on purpose (trace.stale_where),
under a job RQ no longer holds (a worker killed, Redis restarted). A unit of a bulk operation still
running for hours is pending, not lost. RQ is asked once for all the stale units' jobs
(queues.held_ids); when Redis cannot say, none is held (as api_messages.is_stuck says then). A unit
that names no job (begun outside RQ: `flask catalog sync --full` in a terminal) is a running one's
while its flow's lock is held (`running`): the load's units were called interrupted, e-mailed and
offered for Retry while it still ran. A replay left retrying as long is stuck too: the dashboard
also counts it among the retrying units (`retrying_counts`: its open failures count it once).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import ColumnElement, or_
from sqlalchemy.orm import Session

from ledger import queues, trace
from ledger.locks import is_locked
from ledger.models import Message, utcnow


@dataclass(frozen=True)
class Stuck:
    """The shop's stale units per (flow, job id) at `now`, and which of those jobs RQ holds."""

    shop_id: int
    now: datetime
    stale: dict[tuple[str, str | None], int]
    held: frozenset[str]
    running: frozenset[str] = frozenset()  # flows whose lock is held: their units with no job run
    # per (flow, job id), how many of `stale` are replays left retrying (trace.stale_jobs)
    retrying: dict[tuple[str, str | None], int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """{flow: stuck units}: the stale ones under a job RQ does not hold (or under none)."""
        return self._lost(self.stale)

    def retrying_counts(self) -> dict[str, int]:
        """{flow: how many of its stuck units are retrying}: a Retry whose job was lost is counted
        among the retrying ones too (its status), so the dashboard's open failures, which add the
        two, take these off once (one message, one open failure)."""
        return self._lost(self.retrying)

    def _lost(self, stale: dict[tuple[str, str | None], int]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for (flow, job_id), n in stale.items():
            if n and job_id not in self.held and not (job_id is None and flow in self.running):
                counts[flow] = counts.get(flow, 0) + n
        return counts

    def where(self) -> list[ColumnElement[bool]]:
        """The same units as SQL clauses on messages (trace.search's `where`)."""
        clauses = trace.stale_where(self.shop_id, self.now)
        if self.held:  # a unit that names no job has none RQ could hold: NOT IN would drop it (NULL)
            clauses.append(or_(Message.job_id.is_(None), Message.job_id.not_in(sorted(self.held))))
        if self.running:
            clauses.append(or_(Message.job_id.is_not(None), Message.flow.not_in(sorted(self.running))))
        return clauses


def read(session: Session, shop_id: int, conn: Redis, now: datetime | None = None) -> Stuck:
    """The shop's stuck units as of `now` (default: this moment)."""
    now = now or utcnow()
    found = trace.stale_jobs(session, shop_id, now)
    stale = {key: n for key, (n, _retrying) in found.items()}
    retrying = {key: n for key, (_all, n) in found.items() if n}
    held = queues.held_ids((job_id for _, job_id in stale), conn) if stale else set()
    running = frozenset(flow for flow, job_id in stale if job_id is None and locked(shop_id, flow, conn))
    return Stuck(shop_id, now, stale, frozenset(held), running, retrying)


def locked(shop_id: int, flow: str, conn: Redis) -> bool:
    """Whether the flow's lock is held (a run outside RQ holds it too); False when Redis cannot say."""
    try:
        return is_locked(shop_id, flow, conn)
    except RedisError:
        return False
