"""Bulk mutations: JSONL upload, bulkOperationRunMutation, wait, result lines mapped to outcomes.

Why a runner: large loads (thousands of products or prices) are cheaper as one bulk operation,
which does not spend the rate-limit bucket. Shopify allows 5 concurrent bulk operations per
shop and app, so a Redis semaphore (leased, refreshed while waiting, so a dead worker's slot
frees itself) keeps every worker of this app under it. Completion comes from the
`bulk_operations/finish` webhook (the handler calls `notify_bulk_finished`, which wakes the
waiting runner at once) or, failing that, from polling `bulkOperation(id)` with backoff.

Shopify takes one staged JSONL of at most 100 MB per operation (its storage refuses a larger file,
400 EntityTooLarge): `parts` cuts the lines into files under `max_upload_bytes`, a line never
split, and `run` sends a larger input as several operations, one after the other (each holding a
slot while it runs), its result lines numbered in the whole input. A caller that records each
part as it is answered (the catalog) runs the parts itself.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import orjson
import redis
import requests

from ledger.errors import Rejected
from shopify_app.admin_api import documents
from shopify_app.admin_api.errors import (
    VARIANT_THROTTLE,
    BulkOperationFailed,
    BulkStillRunning,
    ShopifyHTTPError,
    ShopifyNetworkError,
    ShopifyServerError,
    ShopifyTransient,
    ShopifyUserErrors,
    Throttled,
    UnexpectedResponse,
    UserError,
)
from shopify_app.admin_api.executor import TRANSIENT_GRAPHQL_CODES, Executor
from shopify_app.admin_api.results import (
    BulkOperation,
    StagedTarget,
    parse_bulk_operation,
    parse_staged_target,
    parse_user_errors,
)

log = logging.getLogger(__name__)

MAX_CONCURRENT_BULK_OPERATIONS = 5
# The app's bulk mutations created in the minute before a lost start answer, read to find the one
# it may have started: at most 5 run at once, so a minute holds far fewer than this.
RECENT_OPERATIONS = 25
# One staged file of bulk mutation variables: Shopify's "100 MB". Its storage counted the earlier
# "20 MB" in MiB (it refused files over 20,971,520 bytes); decimal megabytes are taken here so a part
# fits either reading (the sandbox refuses above 100 MiB). Tests set BulkRunner.max_upload_bytes lower.
MAX_UPLOAD_BYTES = 100_000_000
SLOT_LEASE_SECONDS = 600
NOTIFY_TTL_SECONDS = 86400
# How long `leftover` waits for an operation a dead run left before it gives up for this run
# (BulkStillRunning, transient): a sync is not held silently for hours behind it.
LEFTOVER_WAIT_SECONDS = 60
# How long after the app asked Shopify to start a bulk mutation the operation may still be created
# (the call's 30 s timeout, a throttled call's retries) and listed, with a minute of clock skew: an
# intent (`_start`) whose operation Shopify has not listed by then started nothing.
INTENT_GRACE_SECONDS = 300
# A start whose answer was lost is over (the call ended): a minute for Shopify's list to show it.
LOST_ANSWER_GRACE_SECONDS = 60
CLOCK_SKEW_SECONDS = 60
SETTLED_TTL_SECONDS = 86400  # a settled record, kept only so a rerun of its file adopts its results
# A bulk operation that FAILED for one of these is Shopify's fault, not the lines': sent again.
SHOPIFY_SIDE_CODES = frozenset({"INTERNAL_SERVER_ERROR", "TIMEOUT"})
# A start refused for one of these is retried: a run uploads its file anew (NO_SUCH_FILE: "Try
# uploading the file again"); INVALID_STAGED_UPLOAD_FILE and INVALID_MUTATION are the lines' own.
TRANSIENT_BULK_CODES = frozenset(
    {"LIMIT_REACHED", "OPERATION_IN_PROGRESS", "INTERNAL_FILE_SERVER_ERROR", "NO_SUCH_FILE"}
)

# KEYS[1] slot zset. ARGV: token, now, lease, limit. 1 = acquired.
_ACQUIRE_SLOT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], tonumber(ARGV[2]) + tonumber(ARGV[3]), ARGV[1])
  return 1
end
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[4]) then
  redis.call('ZADD', KEYS[1], tonumber(ARGV[2]) + tonumber(ARGV[3]), ARGV[1])
  return 1
end
return 0
"""


# KEYS[1] an operation's record. ARGV: its bulk id, ttl. 1 = marked (the record is still that operation's).
_MARK_SETTLED = """
if redis.call('HGET', KEYS[1], 'id') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'settled', '1')
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
  return 1
end
return 0
"""

# KEYS[1] an operation's record. ARGV: its bulk id. 1 = deleted (the record was still that operation's).
_FORGET = """
if redis.call('HGET', KEYS[1], 'id') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


@dataclass(frozen=True)
class Leftover:
    """A finished operation a dead run left under a client identifier: what its lines were about."""

    bulk_id: str
    units: list[str]

    def keys(self) -> list[str]:
        """Every key its units name (a unit about several keys: `joined`)."""
        return [key for unit in self.units for key in unit.split(UNIT_SEPARATOR) if key]


UNIT_SEPARATOR = "\n"


def joined(keys: Iterable[str]) -> str:
    """One line's unit naming several keys (a product's SKUs): `Leftover.keys` gives them back."""
    return UNIT_SEPARATOR.join(keys)


def finished_key(shop: str, bulk_id: str) -> str:
    return f"shopify:bulk:finished:{shop}:{bulk_id}"


def notify_bulk_finished(shop: str, bulk_id: str, *, conn: redis.Redis | None = None) -> None:
    """Called by the bulk_operations/finish webhook handler: wakes the runner waiting on `bulk_id`."""
    if conn is None:
        from ledger.kv import get_redis

        conn = get_redis()
    key = finished_key(shop, bulk_id)
    pipe = conn.pipeline()
    pipe.rpush(key, "finished")
    pipe.expire(key, NOTIFY_TTL_SECONDS)
    pipe.execute()


STARTED_PREFIX = "shopify:bulk:started:"  # + "<shop>:<client identifier>": an operation this app started


def shop_keys(shop: str) -> tuple[str, str]:
    """A shop's own bulk keys (its slots, the operations it started lately); with STARTED_PREFIX,
    what shop/redact deletes."""
    return f"shopify:bulk:slots:{shop}", f"shopify:bulk:recent:{shop}"


WIRE_PREFIX = "consinco-erp:"


def wire_identifier(client_identifier: str | None) -> str | None:
    """The clientIdentifier Shopify is sent: the caller's ("prices-7"), prefixed so it reads as this
    app's in the shop's bulk operations and keeps within the 10-255 characters Shopify requires from
    API 2027-01 on ("prices-7" alone is refused there). The app never reads it back (`mutation_text`)."""
    return None if client_identifier is None else (WIRE_PREFIX + client_identifier)[:255]


def mutation_text(mutation_name: str, staged_path: str, client_identifier: str | None) -> str:
    """The mutation one bulk operation is started with: the document, its operation named after
    the caller (client identifier) and the upload (e.g. ProductVariantsBulkUpdate_prices_7_<tag>).

    Why: Shopify's BulkOperation does not give its clientIdentifier back, only this text (`query`),
    and the prices and stock-policy callers run the same mutation: the operation a lost answer
    may have started is the one whose text is this very upload's, never another caller's or an
    earlier part's (`_started_unseen`)."""
    tag = hashlib.sha256(f"{client_identifier or ''}\n{staged_path}".encode()).hexdigest()[:16]
    caller = re.sub(r"[^0-9A-Za-z]+", "_", client_identifier or "").strip("_")
    name = "_".join(part for part in (mutation_name, caller, tag) if part)
    document = documents.operation(mutation_name).text
    text, renamed = re.subn(rf"\bmutation {mutation_name}\b", f"mutation {name}", document, count=1)
    if not renamed:
        raise ValueError(f"{mutation_name} is not a mutation")
    return text


@dataclass(frozen=True)
class BulkLineResult:
    """One input line's outcome: Shopify's payload, or the userErrors / errors it got."""

    line_number: int
    variables: dict[str, Any] | None
    payload: dict[str, Any] | None
    user_errors: list[UserError] = field(default_factory=list)
    errors: list[Any] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.user_errors and not self.errors and self.payload is not None

    @property
    def shopify_side(self) -> bool:
        """Its mutation failed on Shopify's side (top-level errors INTERNAL_SERVER_ERROR,
        SERVICE_UNAVAILABLE, THROTTLED): what a direct call would have raised as transient
        (executor.classify), so the same line is worth sending again."""
        return bool(self._codes & TRANSIENT_GRAPHQL_CODES)

    @property
    def variant_throttled(self) -> bool:
        """Its mutation was refused for the store's daily limit on new variants (VARIANT_THROTTLE_EXCEEDED:
        what a direct call raises as VariantThrottled)."""
        return VARIANT_THROTTLE in self._codes

    @property
    def _codes(self) -> set[Any]:
        return {(e.get("extensions") or {}).get("code") for e in self.errors if isinstance(e, dict)}


@dataclass(frozen=True)
class BulkResult:
    operation: BulkOperation
    lines: list[BulkLineResult]

    @property
    def failed(self) -> list[BulkLineResult]:
        return [line for line in self.lines if not line.ok]


def to_jsonl(variables: Iterable[dict[str, Any]], encoded: Sequence[bytes] | None = None) -> bytes:
    """One JSON object of variables per line (what BULK_MUTATION_VARIABLES expects).

    `encoded`: those very variables already serialised, one JSON object each (a caller that
    hashed the bytes hands them over instead of having them encoded a second time)."""
    if encoded is not None:
        return b"\n".join([*encoded, b""])  # the last line's newline too, in one copy of the lines
    return b"".join(orjson.dumps(v, default=str, option=_OPTIONS) + b"\n" for v in variables)


# Datetimes and the like as str(value), int keys as text: what json.dumps(default=str) wrote.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS


def split_lines(encoded: Sequence[bytes], limit: int) -> list[range]:
    """Consecutive ranges of `encoded` lines whose JSONL (each line and its newline) is at most
    `limit` bytes; a line is never split (one alone over the limit: ValueError)."""
    parts: list[range] = []
    start, size = 0, 0
    for index, line in enumerate(encoded):
        length = len(line) + 1
        if length > limit:
            raise ValueError(f"bulk line {index} is {length} bytes, over the {limit} bytes of one upload")
        if size + length > limit:
            parts.append(range(start, index))
            start, size = index, 0
        size += length
    if start < len(encoded):
        parts.append(range(start, len(encoded)))
    return parts


def map_result_lines(
    text: str | bytes | Iterable[str | bytes], inputs: list[dict[str, Any]]
) -> list[BulkLineResult]:
    """Result JSONL -> one outcome per input line, matched by `__lineNumber` (0-based). `text`:
    the whole file, or its lines one by one (a streamed download: the file never held whole)."""
    outcomes: list[BulkLineResult] = []
    # JSONL ends its lines with "\n" alone: str.splitlines() also cuts at U+2028, U+2029, U+0085,
    # which JSON lets a string hold raw (a userError quoting a value): one line read as two.
    if isinstance(text, str):
        text = text.split("\n")
    elif isinstance(text, bytes):
        text = text.split(b"\n")
    for raw_line in text:
        if not raw_line.strip():
            continue
        try:
            row = orjson.loads(raw_line)
        except orjson.JSONDecodeError as exc:
            raise UnexpectedResponse(f"bulk result line is not JSON: {exc}") from exc
        number = row.get("__lineNumber")
        if not isinstance(number, int):
            raise UnexpectedResponse("bulk result line without __lineNumber")
        data = row.get("data") or {}
        payload = next(iter(data.values()), None) if data else None
        user_errors = (
            parse_user_errors((payload or {}).get("userErrors")) if isinstance(payload, dict) else []
        )
        outcomes.append(
            BulkLineResult(
                line_number=number,
                variables=inputs[number] if 0 <= number < len(inputs) else None,
                payload=payload if isinstance(payload, dict) else None,
                user_errors=user_errors,
                errors=list(row.get("errors") or []),
            )
        )
    return sorted(outcomes, key=lambda o: o.line_number)


class BulkRunner:
    """Runs bulk mutations for one shop through its Executor."""

    def __init__(
        self,
        executor: Executor,
        conn: redis.Redis,
        *,
        http: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        poll_initial_seconds: float = 1.0,
        poll_max_seconds: float = 30.0,
        timeout_seconds: float = 6 * 3600,
        leftover_wait_seconds: float = LEFTOVER_WAIT_SECONDS,
        max_upload_bytes: int = MAX_UPLOAD_BYTES,
    ) -> None:
        self.executor = executor
        self.shop = executor.shop
        self.conn = conn
        self.http = http or requests.Session()
        self.clock = clock
        self.sleep = sleep
        self.poll_initial = poll_initial_seconds
        self.poll_max = poll_max_seconds
        self.timeout = timeout_seconds
        self.leftover_wait = leftover_wait_seconds
        self.max_upload_bytes = max_upload_bytes
        self._acquire_slot = conn.register_script(_ACQUIRE_SLOT)
        self._mark_settled = conn.register_script(_MARK_SETTLED)
        self._forget_script = conn.register_script(_FORGET)
        self.slots_key = shop_keys(self.shop)[0]

    # ---- the Shopify calls --------------------------------------------------------------------

    def staged_upload(self, filename: str) -> StagedTarget:
        payload = self.executor.mutate(
            "StagedUploadsCreate",
            {
                "input": [
                    {
                        "resource": "BULK_MUTATION_VARIABLES",
                        "filename": filename,
                        "mimeType": "text/jsonl",
                        "httpMethod": "POST",
                    }
                ]
            },
            "stagedUploadsCreate",
        )
        targets = payload.get("stagedTargets") or []
        if not targets:
            raise UnexpectedResponse("stagedUploadsCreate returned no target")
        return parse_staged_target(targets[0])

    def upload(self, target: StagedTarget, filename: str, body: bytes) -> None:
        """Multipart POST of the file to the staged target, its parameters first (as S3/GCS want)."""
        try:
            response = self.http.post(
                target.url,
                data=target.parameters,
                files={"file": (filename, body, "text/jsonl")},
                timeout=120,
            )
        except requests.RequestException as exc:
            error = type(exc).__name__
            raise ShopifyNetworkError(f"staged upload failed: {error}", error=error) from exc
        if response.status_code >= 500:
            raise ShopifyServerError(
                f"staged upload answered {response.status_code}", status=response.status_code
            )
        if response.status_code >= 400:
            raise ShopifyHTTPError(response.status_code, response.text)

    def run_mutation(
        self, mutation_name: str, staged_path: str, client_identifier: str | None
    ) -> BulkOperation:
        if not documents.operation(mutation_name).is_mutation:
            raise ValueError(f"{mutation_name} is not a mutation")
        try:
            payload = self.executor.mutate(
                "BulkOperationRunMutation",
                {
                    "mutation": mutation_text(mutation_name, staged_path, client_identifier),
                    "stagedUploadPath": staged_path,
                    "clientIdentifier": wire_identifier(client_identifier),
                },
                "bulkOperationRunMutation",
            )
        except ShopifyUserErrors as exc:
            if exc.codes & TRANSIENT_BULK_CODES:
                raise ShopifyTransient(
                    f"bulk mutation not started: {exc.message}", request_id=exc.request_id
                ) from exc
            raise
        return parse_bulk_operation(payload.get("bulkOperation") or {})

    def bulk_operation(self, bulk_id: str) -> BulkOperation:
        raw = self.executor.query("BulkOperation", {"id": bulk_id}).get("bulkOperation")
        if not raw:
            raise UnexpectedResponse(f"bulk operation {bulk_id} not found")
        return parse_bulk_operation(raw)

    def in_flight(self) -> list[BulkOperation]:
        """This app's bulk operations Shopify still counts against the limit."""
        data = self.executor.query(
            "BulkOperations",
            {"query": "status:created OR status:running", "first": MAX_CONCURRENT_BULK_OPERATIONS * 2},
        )
        return [parse_bulk_operation(n) for n in (data.get("bulkOperations") or {}).get("nodes") or []]

    # ---- the run ---------------------------------------------------------------------------------

    def parts(self, encoded: Sequence[bytes]) -> list[range]:
        """The lines of each upload (split_lines under `max_upload_bytes`): one range when it all fits."""
        return split_lines(encoded, self.max_upload_bytes)

    def run(
        self,
        mutation_name: str,
        variables: Iterable[dict[str, Any]],
        *,
        client_identifier: str | None = None,
        progress: Callable[[BulkOperation], None] | None = None,
        encoded: Sequence[bytes] | None = None,
        units: Sequence[str] | None = None,
        keep_record: bool = False,
    ) -> BulkResult:
        """Upload `variables` (one mutation call each), run, wait, and map every line's outcome.

        `encoded`: the variables already serialised (see to_jsonl), in the same order. `units`:
        what the lines are about (the caller's keys), kept with the operation's record for
        `settle`. Over `max_upload_bytes`, the parts run one after the other (`progress` hears
        each part's operation); the first that fails raises, and the parts answered before it
        are lost to the caller: one that must keep them runs `parts` itself.

        `keep_record`: the operation's record under `client_identifier` outlives the result
        read, until the caller has recorded what the lines did and calls `forget` (the catalog:
        the custom ids set, the bindings committed). A worker killed in between leaves the
        finished operation guarded: the next run adopts it (`_adopt`) or `leftover` hands it back
        (`leftover_lines` reads its results again), instead of its lines being sent again. Only
        for one upload (the caller runs `parts` itself)."""
        inputs = list(variables)
        if encoded is not None and len(encoded) != len(inputs):
            raise ValueError(f"{len(encoded)} encoded lines for {len(inputs)} variables")
        body = to_jsonl(inputs, encoded)
        if len(body) > self.max_upload_bytes:
            if keep_record:
                raise ValueError("keep_record is for one upload: run each of `parts` separately")
            return self._run_parts(mutation_name, inputs, body, client_identifier, progress, units)
        digest = hashlib.sha256(mutation_name.encode() + b"\n" + body).hexdigest()
        token = uuid.uuid4().hex
        self._wait_for_slot(token)
        try:
            operation = self._adopt(client_identifier, digest, token)
            if operation is None:
                operation = self._start(mutation_name, body, token, client_identifier, digest, units)
                log.info("shopify bulk: shop=%s started %s (%s lines)", self.shop, operation.id, len(inputs))
            del body  # uploaded: not held through the wait (up to 100 MB, for hours)
            operation = self.wait(operation.id, token=token, progress=progress)
        finally:
            self.conn.zrem(self.slots_key, token)
        # Its record stays until the results are read: a download that fails (the network, a 5xx,
        # an expired link) leaves the operation to the retry, which adopts it (`_adopt`, the
        # operation read again with fresh links) instead of sending the whole file a second time.
        lines: list[BulkLineResult] = []
        if operation.status == "COMPLETED" and operation.url:
            lines = self.download(operation, inputs)
        elif operation.status != "COMPLETED" and operation.partial_data_url:
            lines = self.download(operation, inputs, url=operation.partial_data_url)
        answered = operation.status == "COMPLETED" or bool(operation.partial_data_url)
        if not (keep_record and answered):  # else the caller forgets it once it has recorded the lines
            self._forget(client_identifier, operation.id)
        if operation.status == "COMPLETED":
            return BulkResult(operation, lines)
        if operation.partial_data_url:
            # Stopped part-way: the lines it applied are in the partial file; the ones it
            # does not list have no result line, which every caller retries (transient).
            log.warning("shopify bulk: shop=%s %s ended %s (%s) after %s of %s lines",
                        self.shop, operation.id, operation.status, operation.error_code, len(lines),
                        len(inputs))  # fmt: skip
            return BulkResult(operation, lines)
        if operation.status in ("CANCELED", "EXPIRED") or operation.error_code in SHOPIFY_SIDE_CODES:
            raise ShopifyTransient(
                f"bulk operation {operation.id} ended {operation.status}"
                + (f" ({operation.error_code})" if operation.error_code else "")
                + ": nothing of it reported applied; sent again"
            )
        raise BulkOperationFailed(operation.id, operation.status, operation.error_code)

    def _run_parts(
        self,
        mutation_name: str,
        inputs: list[dict[str, Any]],
        body: bytes,
        client_identifier: str | None,
        progress: Callable[[BulkOperation], None] | None,
        units: Sequence[str] | None,
    ) -> BulkResult:
        lines = body.split(b"\n")[:-1]  # JSON holds no raw newline
        answer: BulkResult | None = None
        numbered: list[BulkLineResult] = []
        for part in self.parts(lines):
            at = slice(part.start, part.stop)
            answer = self.run(
                mutation_name,
                inputs[at],
                client_identifier=client_identifier,
                progress=progress,
                encoded=lines[at],
                units=None if units is None else units[at],
            )
            numbered += [replace(line, line_number=line.line_number + part.start) for line in answer.lines]
        assert answer is not None
        return BulkResult(answer.operation, numbered)

    # ---- a run that outlives its worker ------------------------------------------------------------
    #
    # Each operation started is recorded under its client identifier (the unit of work, e.g.
    # "prices-7") with the digest of its file (and the units its lines are about), until its
    # results are collected. The record is written before Shopify is asked to start it, as an
    # intent (its mutation text, no id yet): a worker killed between Shopify's accepting the start
    # and the app's writing the id (or a lost answer the list does not show yet) still leaves the
    # operation guarded, and whoever reads the intent finds it by its text (`_resolve`). A worker
    # killed while it waited (or whose wait raised) leaves the record: the job's next run with the
    # same file waits on that operation and maps its results instead of starting a second one that
    # sends every line again; with a different file it first waits for the old operation to finish,
    # so an older price never lands after a newer one. A caller that also writes the same things
    # outside bulk operations (the catalog: direct productSet calls) calls `leftover` before
    # writing anything, and `mark_settled` once it has dealt with the units handed back
    # (`leftover_lines`: its results, read again). A caller that records the lines after the run
    # (the catalog: custom ids, bindings) keeps the record past the result read (`keep_record`)
    # and `forget`s it once that is committed: killed in between, the operation is still guarded,
    # its results read again by the next run instead of its lines being sent again. The record
    # has no expiry until then: it must outlive the operation it guards (Shopify runs a bulk
    # mutation for up to 24 h) and the time until a run looks at it.

    def _record_key(self, client_identifier: str) -> str:
        return f"{STARTED_PREFIX}{self.shop}:{client_identifier}"

    def _known_key(self) -> str:
        return shop_keys(self.shop)[1]

    def _start(
        self,
        mutation_name: str,
        body: bytes,
        token: str,
        client_identifier: str | None,
        digest: str,
        units: Sequence[str] | None = None,
    ) -> BulkOperation:
        filename = f"{mutation_name}-{token}.jsonl"
        target = self.staged_upload(filename)
        self.upload(target, filename, body)
        mutation = mutation_text(mutation_name, target.staged_upload_path, client_identifier)
        asked = self.clock()
        if client_identifier:
            # The intent, before Shopify is asked: from its answer on, the operation may run.
            self._write_record(client_identifier, digest, units, mutation=mutation, asked=repr(asked))
        try:
            operation = self.run_mutation(mutation_name, target.staged_upload_path, client_identifier)
        except (ShopifyNetworkError, ShopifyServerError) as exc:
            # The answer was lost: Shopify may have started it. Never send it a second time blind.
            found = self._started_unseen(mutation, asked)
            if found is None:
                if client_identifier:  # the intent stays: the list may show it later (`_resolve`)
                    self.conn.hset(self._record_key(client_identifier), "answered", repr(self.clock()))
                raise ShopifyTransient(f"bulk mutation {mutation_name} not confirmed: {exc}") from exc
            log.warning("shopify bulk: shop=%s the answer starting %s was lost; it runs as %s",
                        self.shop, mutation_name, found.id)  # fmt: skip
            operation = found
        except BaseException as exc:
            if client_identifier and _not_started(exc):
                self.conn.delete(self._record_key(client_identifier))
            raise
        # The record first: a run stopped between the two leaves the operation guarded by its id; the
        # other way round, known but unrecorded, `_resolve` never found it (it skips known ids).
        if client_identifier:
            self._write_record(client_identifier, digest, units, id=operation.id)
        self._remember(operation.id)
        return operation

    def _write_record(
        self, client_identifier: str, digest: str, units: Sequence[str] | None, **fields: str
    ) -> None:
        """The record of this unit of work's operation: `id` once Shopify answered, else the
        intent (`mutation`, the moment it was `asked`)."""
        record: dict[str, Any] = {**fields, "digest": digest}
        if units is not None:
            record["units"] = orjson.dumps(list(units))
        # No expiry: the record guards the operation until its results are collected (deleted)
        # or it is settled (then it expires), however long Shopify runs it (up to 24 h) and
        # however long no run comes to look.
        pipe = self.conn.pipeline()
        pipe.delete(self._record_key(client_identifier))
        pipe.hset(self._record_key(client_identifier), mapping=record)
        pipe.execute()

    def _remember(self, bulk_id: str) -> None:
        """Known for as long as a lost answer could be mistaken for it (the set is trimmed, not
        emptied when its results are read: a finished operation must not look unrecorded)."""
        now, keep = self.clock(), int(self.timeout) + 3600
        pipe = self.conn.pipeline()
        pipe.zadd(self._known_key(), {bulk_id: now})
        pipe.zremrangebyscore(self._known_key(), "-inf", now - keep)
        pipe.expire(self._known_key(), keep)
        pipe.execute()

    def _resolve(self, client_identifier: str, record: dict[bytes, bytes]) -> dict[bytes, bytes] | None:
        """The record with its operation's id. An intent (no id: the run that asked Shopify to
        start the operation died before its answer, or the answer was lost) gets the id of the one
        operation Shopify lists with its very text, which is then guarded like any other; None when
        Shopify lists none once the start can no longer appear (the intent is dropped: nothing
        was started). Before that: ShopifyTransient, the intent kept for the next run to look."""
        if b"id" in record:
            return record
        key = self._record_key(client_identifier)
        asked = float(record[b"asked"])
        answered = record.get(b"answered")
        closes = float(answered) + LOST_ANSWER_GRACE_SECONDS if answered else asked + INTENT_GRACE_SECONDS
        found = self._started_unseen(record[b"mutation"].decode(), asked, until=closes)
        if found is not None:
            log.warning("shopify bulk: shop=%s %s: %s was started by a run that stopped before recording it",
                        self.shop, client_identifier, found.id)  # fmt: skip
            self.conn.hset(key, "id", found.id)  # before it is known (see `_start`)
            self._remember(found.id)
            return {**record, b"id": found.id.encode()}
        now = self.clock()
        if now < closes:
            raise ShopifyTransient(
                f"the bulk operation of {client_identifier} asked of Shopify at {_iso(asked)} may be "
                "running (its start was never confirmed: the run stopped, or Shopify's answer was lost) "
                f"and Shopify does not list it yet: nothing is sent before it is found or "
                f"{int(closes - now) + 1} s have passed, so its lines cannot land over newer ones; the "
                "next run looks for it again",
                retry_after=closes - now,
            )
        log.info("shopify bulk: shop=%s %s: the start asked at %s never ran; nothing to wait for",
                 self.shop, client_identifier, _iso(asked))  # fmt: skip
        self.conn.delete(key)
        return None

    def _adopt(self, client_identifier: str | None, digest: str, token: str) -> BulkOperation | None:
        """The operation a killed run of this unit of work left, when its file was this one. One
        left with another file is waited for first, the slot `token` leased meanwhile."""
        if not client_identifier:
            return None
        record = self.conn.hgetall(self._record_key(client_identifier))
        if record:
            record = self._resolve(client_identifier, record)
        if not record:
            return None
        bulk_id, their = record[b"id"].decode(), record.get(b"digest", b"").decode()
        try:
            operation = self.bulk_operation(bulk_id)
        except UnexpectedResponse:
            self.conn.delete(self._record_key(client_identifier))
            return None
        if their == digest:
            log.info("shopify bulk: shop=%s %s resumes %s (%s), left by an earlier run",
                     self.shop, client_identifier, bulk_id, operation.status)  # fmt: skip
            return operation
        if not operation.is_finished:
            log.info("shopify bulk: shop=%s %s waits for %s, left running by an earlier run with other lines",
                     self.shop, client_identifier, bulk_id)  # fmt: skip
            self.wait(bulk_id, token=token)
        self.conn.delete(self._record_key(client_identifier))
        return None

    def leftover(self, client_identifier: str) -> Leftover | None:
        """The operation a dead run left under `client_identifier`, once it has finished (waited
        for here, up to `leftover_wait` seconds); None when there is none, or it was settled.

        Why: that operation may still be writing in Shopify after its worker died and its lock
        lapsed, so whatever was sent since by other means (a direct call) may have been
        overwritten with its older lines. The caller waits here before writing anything, treats
        its units as unknown in Shopify (sends them again) and, once that is committed, calls
        `mark_settled`: until then every call hands the same units back, so a caller that fails
        in between (its database down, its worker killed) loses nothing.

        Still running after the wait: BulkStillRunning (transient), naming the operation; the
        record is kept, with no expiry, and the caller's next run waits for it again."""
        key = self._record_key(client_identifier)
        record = self.conn.hgetall(key)
        if not record or b"settled" in record:
            return None
        self.conn.persist(key)  # a record written with an expiry (before it had none) outlives it
        resolved = self._resolve(client_identifier, record)
        if resolved is None:
            return None
        bulk_id = resolved[b"id"].decode()
        try:
            operation: BulkOperation | None = self.bulk_operation(bulk_id)
        except UnexpectedResponse:
            operation = None  # Shopify no longer knows it: nothing more of it lands
        if operation is not None and not operation.is_finished:
            log.info("shopify bulk: shop=%s %s waits for %s, left running by a run that died",
                     self.shop, client_identifier, bulk_id)  # fmt: skip
            try:
                self.wait(bulk_id, timeout=self.leftover_wait)
            except BulkStillRunning as exc:
                log.warning("shopify bulk: shop=%s %s: %s, left by a run that died, still %s",
                            self.shop, client_identifier, bulk_id, exc.status)  # fmt: skip
                raise BulkStillRunning(
                    f"bulk operation {bulk_id} ({client_identifier}), left running in Shopify by a run "
                    f"that stopped{_since(operation)}, is still {exc.status} ({exc.object_count} lines "
                    f"done) after waiting {int(self.leftover_wait)} s for it: nothing is sent before it "
                    "ends, so its older lines cannot land over newer ones; the next run waits for it again",
                    bulk_id=bulk_id, status=exc.status, object_count=exc.object_count,
                ) from exc  # fmt: skip
        return Leftover(bulk_id, [str(unit) for unit in orjson.loads(record.get(b"units") or b"[]")])

    def mark_settled(self, client_identifier: str, leftover: Leftover) -> None:
        """The caller has done what `leftover` asked (committed): it is not handed back again. The
        record stays a while, so a run of the same file still adopts the operation's results."""
        self._mark_settled(
            keys=[self._record_key(client_identifier)], args=[leftover.bulk_id, SETTLED_TTL_SECONDS]
        )

    def _started_unseen(
        self, mutation: str, asked: float, *, until: float | None = None
    ) -> BulkOperation | None:
        """The one bulk mutation of this app (running or already done) nobody here recorded,
        started since `asked` (and by `until`, when given), a minute of clock skew either side,
        with this very text (`mutation_text`: this caller's, this upload's); None when not
        exactly one. `until` bounds the list when it is read long after the start (an intent):
        the newest operations alone might no longer include it."""
        text = " ".join(mutation.split())
        known = {m.decode() for m in self.conn.zrange(self._known_key(), 0, -1)}
        since = asked - CLOCK_SKEW_SECONDS
        before = None if until is None else until + CLOCK_SKEW_SECONDS
        search = f"operation_type:mutation created_at:>='{_iso(since)}'"
        if before is not None:
            search += f" created_at:<='{_iso(before)}'"
        recent = self.executor.query("BulkOperationsRecent", {"query": search, "first": RECENT_OPERATIONS})
        nodes = (recent.get("bulkOperations") or {}).get("nodes") or []
        found = [op for op in map(parse_bulk_operation, nodes)
                 if op.id not in known and op.type == "MUTATION"
                 and " ".join((op.query or "").split()) == text
                 and (op.created_at is None or _within(_epoch(op.created_at), since, before))]  # fmt: skip
        return found[0] if len(found) == 1 else None

    def _forget(self, client_identifier: str | None, bulk_id: str) -> None:
        """Its results are collected: its record goes. It stays known (`_start`): forgotten, a
        finished operation would pass for the one a later lost answer started."""
        if client_identifier:
            self.conn.delete(self._record_key(client_identifier))

    def forget(self, client_identifier: str, bulk_id: str) -> None:
        """The caller of `run(keep_record=True)` has recorded what operation `bulk_id`'s lines did
        (committed): its record goes, unless it is already another operation's."""
        self._forget_script(keys=[self._record_key(client_identifier)], args=[bulk_id])

    def leftover_lines(self, leftover: Leftover) -> list[BulkLineResult]:
        """The result lines of the finished operation `leftover` names (`variables` None: the
        inputs are not kept; `line_number` counts in its own file, as `units` does), read from the
        links Shopify gives now (a signed link expires); the partial file of one that stopped
        part-way. [] when it has none: nothing applied, or Shopify no longer knows it. A download
        that fails raises (transient): the leftover is not settled, the next run reads it again."""
        try:
            operation = self.bulk_operation(leftover.bulk_id)
        except UnexpectedResponse:
            return []
        url = operation.url if operation.status == "COMPLETED" else operation.partial_data_url
        if not operation.is_finished or not url:
            return []
        return self.download(operation, url=url)

    def download(
        self, operation: BulkOperation, inputs: list[dict[str, Any]] | None = None, *, url: str | None = None
    ) -> list[BulkLineResult]:
        """The result file read line by line as it arrives (a catalogue's runs to tens of MB)."""
        try:
            with self.http.get(url or operation.url or "", timeout=120, stream=True) as response:
                if response.status_code >= 400:
                    raise ShopifyServerError(
                        f"bulk result download answered {response.status_code}", status=response.status_code
                    )
                return map_result_lines(
                    response.iter_lines(chunk_size=1 << 16, delimiter=b"\n"), inputs or []
                )
        except requests.RequestException as exc:
            error = type(exc).__name__
            raise ShopifyNetworkError(f"bulk result download failed: {error}", error=error) from exc

    def wait(
        self,
        bulk_id: str,
        *,
        token: str | None = None,
        progress: Callable[[BulkOperation], None] | None = None,
        timeout: float | None = None,
    ) -> BulkOperation:
        """Until the operation finishes: woken by notify_bulk_finished, else polling with backoff.
        Still running after `timeout` seconds (the runner's by default): BulkStillRunning."""
        timeout = self.timeout if timeout is None else timeout
        deadline = self.clock() + timeout
        interval = self.poll_initial
        while True:
            if token is not None:
                # Renew the lease on our slot (the limit does not apply to a slot already held),
                # first thing: what came before (an upload, the wait for a leftover) took a while.
                self._acquire_slot(
                    keys=[self.slots_key], args=[token, self.clock(), SLOT_LEASE_SECONDS, 10**9]
                )
            operation = self.bulk_operation(bulk_id)
            if progress is not None:
                progress(operation)
            if operation.is_finished:
                return operation
            if self.clock() > deadline:
                raise BulkStillRunning(
                    f"bulk operation {bulk_id} still {operation.status} after {timeout}s",
                    bulk_id=bulk_id, status=operation.status, object_count=operation.object_count,
                )  # fmt: skip
            self._wait_notification(bulk_id, interval)
            interval = min(self.poll_max, interval * 2)

    def _wait_notification(self, bulk_id: str, seconds: float) -> bool:
        """Whether the finish webhook woke us within `seconds`. The BLPOP waits in steps of at most
        a quarter of the client's socket timeout (ledger.kv.get_redis: REDIS_SOCKET_TIMEOUT), which would
        otherwise end a quiet wait as "Redis unreachable". The webhook only wakes the wait early:
        Shopify's status, polled after it, is what the runner trusts, so a Redis slow to answer or
        gone (a loaded machine, a failover) ends the wait as no news, its time slept out."""
        key = finished_key(self.shop, bulk_id)
        deadline = time.monotonic() + seconds
        try:
            if seconds <= 0:
                return self.conn.lpop(key) is not None
            socket_timeout = self.conn.connection_pool.connection_kwargs.get("socket_timeout")
            step = seconds if socket_timeout is None else max(0.1, socket_timeout / 4)
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                # BLPOP's timeout is in seconds, fractions allowed (Redis 6+)
                if self.conn.blpop([key], timeout=min(left, step)) is not None:
                    return True
        except redis.RedisError as exc:
            log.warning("shopify bulk: shop=%s waiting for %s's finish webhook: Redis did not answer (%s); "
                        "polling Shopify instead", self.shop, bulk_id, exc)  # fmt: skip
            time.sleep(max(0.0, deadline - time.monotonic()))
            return False

    def _wait_for_slot(self, token: str) -> None:
        interval = self.poll_initial
        deadline = self.clock() + self.timeout
        while not self._acquire_slot(
            keys=[self.slots_key],
            args=[token, self.clock(), SLOT_LEASE_SECONDS, MAX_CONCURRENT_BULK_OPERATIONS],
        ):
            if self.clock() > deadline:
                raise ShopifyTransient(f"no free bulk operation slot for {self.shop}")
            log.info(
                "shopify bulk: shop=%s has %s bulk operations running, waiting",
                self.shop,
                MAX_CONCURRENT_BULK_OPERATIONS,
            )
            self.sleep(interval)
            interval = min(self.poll_max, max(interval, 0.01) * 2)


def _since(operation: BulkOperation | None) -> str:
    return f" (started {operation.created_at})" if operation is not None and operation.created_at else ""


def _not_started(exc: BaseException) -> bool:
    """Shopify answered the start with a refusal (userErrors, a GraphQL or HTTP error, throttled):
    no operation runs."""
    return isinstance(exc, (Rejected, Throttled, ValueError)) or isinstance(exc.__cause__, ShopifyUserErrors)


def _within(moment: float, since: float, before: float | None) -> bool:
    return since <= moment and (before is None or moment <= before)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(moment: str) -> float:
    return datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp()
