"""Which shop a failed RQ job is of: what its first argument names. A run or event job (`jobs.*`)
takes the shop's id, a replay (`*.replay`) one of its messages, a webhook's job (inbox.process)
its inbox row. The Failed jobs page lists a shop's by it, and customers/redact drops only the
redacted shop's failed jobs naming the person (the same person buying in another shop of the
installation leaves that shop's failure, and its requeue, alone)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rq.job import Job
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.models import Message, WebhookInbox
from ledger.queues import INBOX_JOB


def job_row(job: Job) -> dict[str, Any]:
    """A job as the attribution reads it (and the failed-jobs list shows it): id, queue, func and
    its args as reprs."""
    return {"id": job.id, "queue": job.origin, "func": job.func_name, "args": [repr(a) for a in job.args]}


def first_id(job: dict[str, Any]) -> int | None:
    args = job.get("args") or []
    return int(args[0]) if args and str(args[0]).isdigit() else None  # args come as reprs: '42'


def shops_jobs(
    session: Session,
    found: list[dict[str, Any]],
    shop_id: int,
    shop_domain: str,
    *,
    inbox_done: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """Those of `found` (failed jobs: id, func, args) of the shop, in their order: a run or event
    job whose first argument is the shop's id, a replay of one of its messages, a webhook inbox row
    of it (its `topic` added) whose status is not one of `inbox_done`. One query per kind for them
    all."""
    firsts = {job["id"]: first_id(job) for job in found}
    inbox_ids = {firsts[job["id"]] for job in found if job.get("func") == INBOX_JOB} - {None}
    replayed = {firsts[job["id"]] for job in found if (job.get("func") or "").endswith(".replay")} - {None}
    inbox: dict[int, str] = {}
    if inbox_ids:
        query = select(WebhookInbox.id, WebhookInbox.topic).where(
            WebhookInbox.id.in_(inbox_ids), WebhookInbox.shop_domain == shop_domain
        )
        done = list(inbox_done)
        if done:
            query = query.where(WebhookInbox.status.not_in(done))
        inbox = {row.id: row.topic for row in session.execute(query)}
    messages: set[int] = set()
    if replayed:
        mine = select(Message.id).where(Message.id.in_(replayed), Message.shop_id == shop_id)
        messages = set(session.scalars(mine))
    kept = []
    for job in found:
        func, first = job.get("func") or "", firsts[job["id"]]
        if first is None:
            continue
        if func == INBOX_JOB:
            if first in inbox:
                job["topic"] = inbox[first]
                kept.append(job)
        elif func.endswith(".replay"):
            if first in messages:
                kept.append(job)
        elif func.startswith("jobs.") and first == shop_id:
            kept.append(job)
    return kept
