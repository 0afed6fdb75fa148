"""The bulk runner end to end with mocked HTTP: staged upload, run, wait, result lines."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest
import requests

from shopify_app.admin_api.bulk import (
    INTENT_GRACE_SECONDS,
    MAX_CONCURRENT_BULK_OPERATIONS,
    SETTLED_TTL_SECONDS,
    STARTED_PREFIX,
    BulkRunner,
    map_result_lines,
    notify_bulk_finished,
    split_lines,
    to_jsonl,
)
from shopify_app.admin_api.errors import (
    BulkOperationFailed,
    BulkStillRunning,
    ShopifyTransient,
    UnexpectedResponse,
)
from tests.admin_api.conftest import SHOP, URL, gql_body

UPLOAD_URL = "https://shopify-staged-uploads.storage.test/"
RESULT_URL = "https://storage.test/results/bulk-1.jsonl"
BULK_ID = "gid://shopify/BulkOperation/1"
INPUTS = [
    {
        "productId": "gid://shopify/Product/1",
        "variants": [{"id": "gid://shopify/ProductVariant/1", "price": "9.90"}],
    },
    {
        "productId": "gid://shopify/Product/2",
        "variants": [{"id": "gid://shopify/ProductVariant/2", "price": "-1"}],
    },
]
RESULT_LINES = (
    "\n".join(
        [
            json.dumps(
                {
                    "data": {
                        "productVariantsBulkUpdate": {
                            "productVariants": [{"id": "gid://shopify/ProductVariant/2"}],
                            "userErrors": [
                                {
                                    "field": ["variants", "0", "price"],
                                    "message": "Price must be positive",
                                    "code": "INVALID",
                                }
                            ],
                        }
                    },
                    "__lineNumber": 1,
                }
            ),
            json.dumps(
                {
                    "data": {
                        "productVariantsBulkUpdate": {
                            "productVariants": [{"id": "gid://shopify/ProductVariant/1"}],
                            "userErrors": [],
                        }
                    },
                    "__lineNumber": 0,
                }
            ),
        ]
    )
    + "\n"
)


def bulk_op(status: str, count: int, url: str | None = None) -> dict:
    return {
        "id": BULK_ID,
        "status": status,
        "type": "MUTATION",
        "errorCode": None,
        "objectCount": str(count),
        "rootObjectCount": str(count),
        "fileSize": None,
        "url": url,
        "partialDataUrl": None,
        "createdAt": "2026-11-28T10:00:00Z",
        "completedAt": None,
    }


class FakeAdmin:
    """Answers the bulk operations by operationName, walking the operation through its states."""

    def __init__(self, final_status: str = "COMPLETED", error_code: str = "INTERNAL_SERVER_ERROR") -> None:
        self.polls = 0
        self.final_status = final_status
        self.error_code = error_code
        self.ran_mutation: str | None = None
        self.staged_path: str | None = None

    def __call__(self, request, context):
        body = request.json()
        name = body["operationName"]
        if name == "StagedUploadsCreate":
            assert body["variables"]["input"][0]["resource"] == "BULK_MUTATION_VARIABLES"
            return gql_body(
                {
                    "stagedUploadsCreate": {
                        "stagedTargets": [
                            {
                                "url": UPLOAD_URL,
                                "resourceUrl": None,
                                "parameters": [
                                    {"name": "key", "value": "tmp/21/bulk/abc.jsonl"},
                                    {"name": "Content-Type", "value": "text/jsonl"},
                                    {"name": "policy", "value": "cG9saWN5"},
                                ],
                            }
                        ],
                        "userErrors": [],
                    }
                }
            )
        if name == "BulkOperationRunMutation":
            self.ran_mutation = body["variables"]["mutation"]
            self.staged_path = body["variables"]["stagedUploadPath"]
            self.identifier = body["variables"]["clientIdentifier"]
            return gql_body(
                {"bulkOperationRunMutation": {"bulkOperation": bulk_op("CREATED", 0), "userErrors": []}}
            )
        if name == "BulkOperation":
            self.polls += 1
            if self.polls < 3:
                return gql_body({"bulkOperation": bulk_op("RUNNING", self.polls)})
            url = RESULT_URL if self.final_status == "COMPLETED" else None
            return gql_body(
                {
                    "bulkOperation": {
                        **bulk_op(self.final_status, 2, url),
                        "errorCode": None if url else self.error_code,
                    }
                }
            )
        raise AssertionError(f"unexpected operation {name}")


@pytest.mark.parametrize("caller", ["prices-7", "publish-1", "catalog-1"])
def test_the_client_identifier_sent_keeps_within_10_to_255_characters(runner, http, redis_conn, caller):
    """From API 2027-01 Shopify refuses a clientIdentifier shorter than 10 characters: "prices-7",
    "publish-1" and "catalog-1" (the app's own) would have stopped every bulk operation there."""
    admin = FakeAdmin()
    http.post(URL, json=admin)
    http.post(UPLOAD_URL, status_code=201)
    http.get(RESULT_URL, text=RESULT_LINES)
    runner.run("ProductVariantsBulkUpdate", INPUTS, client_identifier=caller)
    assert 10 <= len(admin.identifier) <= 255 and admin.identifier.endswith(caller)


@pytest.fixture
def runner(client):
    bulk = client.bulk
    bulk.poll_initial = 0.01
    bulk.poll_max = 0.02
    return bulk


def test_bulk_run_end_to_end(runner, http, redis_conn):
    admin = FakeAdmin()
    http.post(URL, json=admin)
    upload = http.post(UPLOAD_URL, status_code=201)
    http.get(RESULT_URL, text=RESULT_LINES)
    seen: list[tuple[str, int]] = []

    result = runner.run(
        "ProductVariantsBulkUpdate",
        INPUTS,
        client_identifier="prices-batch-7",
        progress=lambda op: seen.append((op.status, op.object_count)),
    )

    # The upload is a multipart form: the target's parameters, then the JSONL file.
    sent = upload.last_request.body
    assert b'name="key"' in sent and b"tmp/21/bulk/abc.jsonl" in sent and b'name="policy"' in sent
    assert sent.index(b'name="key"') < sent.index(b'name="file"')
    assert json.dumps(INPUTS[0], separators=(",", ":")).encode() + b"\n" in sent
    assert admin.staged_path == "tmp/21/bulk/abc.jsonl"
    assert admin.ran_mutation.startswith("mutation ProductVariantsBulkUpdate")
    assert "fragment VariantRefFields" in admin.ran_mutation
    assert seen == [("RUNNING", 1), ("RUNNING", 2), ("COMPLETED", 2)]

    assert [line.line_number for line in result.lines] == [0, 1]
    ok, failed = result.lines
    assert ok.ok and ok.variables == INPUTS[0]
    assert not failed.ok and failed.variables == INPUTS[1]
    assert failed.user_errors[0].field == ("variants", "0", "price")
    assert failed.user_errors[0].code == "INVALID"
    assert result.failed == [failed]
    assert redis_conn.zcard(runner.slots_key) == 0  # the concurrency slot was given back


def test_bulk_failure_is_a_typed_error_and_frees_the_slot(runner, http, redis_conn):
    http.post(URL, json=FakeAdmin(final_status="FAILED", error_code="ACCESS_DENIED"))
    http.post(UPLOAD_URL, status_code=204)
    with pytest.raises(BulkOperationFailed) as caught:
        runner.run("ProductVariantsBulkUpdate", INPUTS)
    assert caught.value.status == "FAILED" and caught.value.error_code == "ACCESS_DENIED"
    assert redis_conn.zcard(runner.slots_key) == 0


@pytest.mark.parametrize(("status", "code"), [("FAILED", "INTERNAL_SERVER_ERROR"), ("FAILED", "TIMEOUT"),
                                              ("CANCELED", None), ("EXPIRED", None)])  # fmt: skip
def test_a_bulk_operation_stopped_on_shopifys_side_with_nothing_applied_is_sent_again(
    runner, http, redis_conn, status, code
):
    """No partial data, and the fault is Shopify's (or the operation was stopped): transient,
    so the job runs again, never a refusal of every line."""
    http.post(URL, json=FakeAdmin(final_status=status, error_code=code))
    http.post(UPLOAD_URL, status_code=204)
    with pytest.raises(ShopifyTransient, match=f"ended {status}"):
        runner.run("ProductVariantsBulkUpdate", INPUTS)
    assert redis_conn.zcard(runner.slots_key) == 0


def test_finish_notification_wakes_the_waiting_runner(runner, http, redis_conn):
    runner.poll_initial = 30.0  # without the notification this would block for 30 s
    state = {"status": "RUNNING"}
    http.post(
        URL,
        json=lambda request, context: gql_body({"bulkOperation": bulk_op(state["status"], 5, RESULT_URL)}),
    )

    def webhook() -> None:
        state["status"] = "COMPLETED"
        notify_bulk_finished(SHOP, BULK_ID, conn=redis_conn)

    timer = threading.Timer(0.2, webhook)
    timer.start()
    try:
        op = runner.wait(BULK_ID)
    finally:
        timer.cancel()
    assert op.status == "COMPLETED"
    assert http.call_count == 2  # one poll before, one after the notification


def test_the_five_concurrent_limit_is_respected(runner, redis_conn, clock):
    for n in range(MAX_CONCURRENT_BULK_OPERATIONS):
        redis_conn.zadd(runner.slots_key, {f"other-{n}": clock() + 600})
    runner.timeout = 5.0
    with pytest.raises(ShopifyTransient, match="no free bulk operation slot"):
        runner._wait_for_slot("mine")
    assert clock.sleeps  # it waited (on the fake clock) before giving up
    assert redis_conn.zscore(runner.slots_key, "mine") is None


def test_an_expired_slot_lease_is_reclaimed(runner, redis_conn, clock):
    for n in range(MAX_CONCURRENT_BULK_OPERATIONS):
        redis_conn.zadd(runner.slots_key, {f"dead-{n}": clock() - 1})
    runner._wait_for_slot("mine")
    assert redis_conn.zscore(runner.slots_key, "mine") is not None


def test_map_result_lines_keeps_graphql_errors():
    lines = map_result_lines('{"errors":[{"message":"boom"}],"__lineNumber":0}\n', [{"a": 1}])
    assert not lines[0].ok and lines[0].errors == [{"message": "boom"}] and lines[0].variables == {"a": 1}


class WorkerKilled(BaseException):
    pass


def _killed(operation) -> None:
    raise WorkerKilled


def test_the_record_of_an_operation_never_expires_before_its_results_are_collected(runner, http, redis_conn):
    """Shopify runs a bulk mutation for up to 24 h: the record of one whose worker died must
    still be there when the next run comes, however late (it expired 7 h after the start)."""
    http.post(URL, json=FakeAdmin())
    http.post(UPLOAD_URL, status_code=201)
    with pytest.raises(WorkerKilled):
        runner.run("ProductVariantsBulkUpdate", INPUTS, client_identifier="catalog-1", progress=_killed,
                   units=["5", "7"])  # fmt: skip
    record = f"{STARTED_PREFIX}{SHOP}:catalog-1"
    assert redis_conn.hget(record, "id") == BULK_ID.encode()
    assert redis_conn.ttl(record) == -1


def test_an_operation_left_running_longer_than_the_wait_is_a_transient_naming_it_and_stays_guarded(
    runner, http, redis_conn, clock
):
    """The operation a dead run left still runs after `leftover` waited its while: a transient
    error naming it (the sync ends retrying, saying why, instead of holding the worker for
    hours), the record kept with no expiry (one written with an expiry loses it), and the next
    call waits again; once it ended, its units are handed back."""
    record = f"{STARTED_PREFIX}{SHOP}:catalog-1"
    redis_conn.hset(record, mapping={"id": BULK_ID, "digest": "x", "units": json.dumps(["5", "7"])})
    redis_conn.expire(record, 3600)
    state = {"status": "RUNNING"}

    def answer(request, context):
        clock.now += 60  # each poll, a minute later
        return gql_body({"bulkOperation": bulk_op(state["status"], 12, RESULT_URL)})

    http.post(URL, json=answer)
    runner.leftover_wait = 300
    for _ in range(2):
        with pytest.raises(BulkStillRunning) as caught:
            runner.leftover("catalog-1")
        text = str(caught.value)
        assert BULK_ID in text and "catalog-1" in text and "still RUNNING" in text and "12 lines done" in text
        assert "the next run waits for it again" in text
        assert redis_conn.ttl(record) == -1
        assert redis_conn.hget(record, "settled") is None

    state["status"] = "COMPLETED"
    left = runner.leftover("catalog-1")
    assert left is not None and (left.bulk_id, left.units) == (BULK_ID, ["5", "7"])
    runner.mark_settled("catalog-1", left)
    assert runner.leftover("catalog-1") is None
    assert 0 < redis_conn.ttl(record) <= SETTLED_TTL_SECONDS


def test_lines_are_split_into_uploads_within_the_limit_never_inside_a_line():
    lines = [b"a" * 9, b"b" * 4, b"c" * 4, b"d" * 9]  # 10, 5, 5, 10 bytes with their newlines
    assert split_lines(lines, 10) == [range(0, 1), range(1, 3), range(3, 4)]
    assert split_lines(lines, 30) == [range(0, 4)]
    assert split_lines([], 10) == []
    with pytest.raises(ValueError, match="line 1 is 10 bytes"):
        split_lines([b"ab", b"c" * 9], 9)


def test_pre_encoded_lines_make_the_same_jsonl_as_the_variables() -> None:
    variables = [{"input": {"title": "Arroz"}}, {"input": {"title": "Feijão"}}]
    encoded = [json.dumps(v, ensure_ascii=False, separators=(",", ":")).encode() for v in variables]
    assert to_jsonl(variables, encoded) == to_jsonl(variables) == b"\n".join(encoded) + b"\n"
    assert to_jsonl([], []) == to_jsonl([]) == b""


# ---- a start whose answer was never recorded (the worker killed, the answer lost) ---------------


class ListingAdmin(FakeAdmin):
    """FakeAdmin that also lists the operations it started (BulkOperationsRecent), created at the
    fake clock's time, and can have Shopify's answer to the start lost (a 502) after it started."""

    def __init__(self, clock, redis_conn, *, lose_answer: bool = False) -> None:
        super().__init__()
        self.clock, self.redis_conn, self.lose_answer = clock, redis_conn, lose_answer
        self.started: list[dict] = []
        self.record_when_asked: dict | None = None
        self.listed_with: list[str] = []
        self.lagging = False  # the list does not show what was started yet

    def __call__(self, request, context):
        body = request.json()
        name = body["operationName"]
        if name == "BulkOperationRunMutation":
            self.record_when_asked = self.redis_conn.hgetall(RECORD)
            answer = super().__call__(request, context)
            self.started.append({**bulk_op("CREATED", 0), "createdAt": _iso(self.clock()),
                                 "query": body["variables"]["mutation"]})  # fmt: skip
            if self.lose_answer:
                context.status_code = 502
                return {"errors": "Bad Gateway"}
            return answer
        if name == "BulkOperationsRecent":
            self.listed_with.append(body["variables"]["query"])
            return gql_body({"bulkOperations": {"nodes": [] if self.lagging else self.started}})
        return super().__call__(request, context)


RECORD = f"{STARTED_PREFIX}{SHOP}:catalog-1"


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _killed_after_the_start(monkeypatch) -> None:
    real = BulkRunner.run_mutation

    def killed(self, mutation_name, staged_path, client_identifier):
        real(self, mutation_name, staged_path, client_identifier)
        raise WorkerKilled  # SIGKILL between Shopify's answer and anything the run writes after it

    monkeypatch.setattr(BulkRunner, "run_mutation", killed)


def test_the_intent_to_start_is_recorded_before_shopify_is_asked(runner, http, redis_conn, clock):
    admin = ListingAdmin(clock, redis_conn)
    http.post(URL, json=admin)
    http.post(UPLOAD_URL, status_code=201)
    with pytest.raises(WorkerKilled):
        runner.run("ProductVariantsBulkUpdate", INPUTS, client_identifier="catalog-1", progress=_killed,
                   units=["5", "7"])  # fmt: skip
    asked = admin.record_when_asked
    assert asked and b"id" not in asked  # no id yet: Shopify has not answered
    assert asked[b"mutation"].decode() == admin.ran_mutation  # the very text Shopify lists it by
    assert json.loads(asked[b"units"]) == ["5", "7"]
    assert redis_conn.hget(RECORD, "id") == BULK_ID.encode()  # then the answer's id


def test_a_run_killed_before_recording_the_start_leaves_the_operation_guarded_and_handed_back(
    runner, http, redis_conn, clock, monkeypatch
):
    """Shopify started the operation, the worker died before writing its id: `leftover` finds it
    by its text, waits for it and hands its units back, so nothing newer is sent before it ends."""
    admin = ListingAdmin(clock, redis_conn)
    http.post(URL, json=admin)
    http.post(UPLOAD_URL, status_code=201)
    _killed_after_the_start(monkeypatch)
    with pytest.raises(WorkerKilled):
        runner.run("ProductVariantsBulkUpdate", INPUTS, client_identifier="catalog-1", units=["5", "7"])
    assert redis_conn.hget(RECORD, "id") is None and redis_conn.exists(RECORD)

    clock.now += 30
    left = runner.leftover("catalog-1")
    assert left is not None and (left.bulk_id, left.units) == (BULK_ID, ["5", "7"])
    assert admin.polls >= 3  # waited for it to finish
    (listed,) = admin.listed_with
    assert "created_at:>=" in listed and "created_at:<=" in listed  # a window: its start, not the newest 25
    runner.mark_settled("catalog-1", left)
    assert runner.leftover("catalog-1") is None


def test_the_retry_of_a_run_killed_before_recording_the_start_adopts_the_operation(
    runner, http, redis_conn, clock, monkeypatch
):
    """The same file again (the job's retry): it waits on the operation already started and maps
    its results, never sending every line a second time."""
    admin = ListingAdmin(clock, redis_conn)
    http.post(URL, json=admin)
    http.post(UPLOAD_URL, status_code=201)
    http.get(RESULT_URL, text=RESULT_LINES)
    real = BulkRunner.run_mutation
    _killed_after_the_start(monkeypatch)
    with pytest.raises(WorkerKilled):
        runner.run("ProductVariantsBulkUpdate", INPUTS, client_identifier="catalog-1")
    monkeypatch.setattr(BulkRunner, "run_mutation", real)
    result = runner.run("ProductVariantsBulkUpdate", INPUTS, client_identifier="catalog-1")
    assert len(admin.started) == 1
    assert [line.line_number for line in result.lines] == [0, 1]
    assert not redis_conn.exists(RECORD)


def test_an_intent_shopify_never_lists_is_dropped_once_the_start_can_no_longer_appear(
    runner, http, redis_conn, clock
):
    """Killed before Shopify had the request: nothing is listed. Until the start could still show
    up, the run waits (transient, saying why); after that the intent is dropped, nothing held."""
    redis_conn.hset(RECORD, mapping={"digest": "x", "units": json.dumps(["5"]), "asked": str(clock()),
                                     "mutation": "mutation ProductSet_catalog_1_0123 { x }"})  # fmt: skip
    admin = ListingAdmin(clock, redis_conn)
    http.post(URL, json=admin)
    with pytest.raises(ShopifyTransient, match="does not list it yet"):
        runner.leftover("catalog-1")
    assert redis_conn.exists(RECORD)
    clock.now += INTENT_GRACE_SECONDS
    assert runner.leftover("catalog-1") is None
    assert not redis_conn.exists(RECORD)


def test_a_lost_answer_not_listed_keeps_the_intent_for_the_next_run_to_look_again(
    runner, http, redis_conn, clock
):
    """The 502 came after Shopify started it, and the list did not show it yet: the record stays
    (no id), and the next look, which does find it, guards it."""
    admin = ListingAdmin(clock, redis_conn, lose_answer=True)
    admin.lagging = True  # not shown to the first look
    http.post(URL, json=admin)
    http.post(UPLOAD_URL, status_code=201)
    with pytest.raises(ShopifyTransient, match="not confirmed"):
        runner.run("ProductVariantsBulkUpdate", INPUTS, client_identifier="catalog-1", units=["5", "7"])
    assert redis_conn.exists(RECORD) and redis_conn.hget(RECORD, "id") is None
    admin.lagging = False
    clock.now += 10
    left = runner.leftover("catalog-1")
    assert left is not None and (left.bulk_id, left.units) == (BULK_ID, ["5", "7"])


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("OPERATION_IN_PROGRESS", "A bulk operation is running"),
        # "Try uploading the file again": each run uploads its file anew, so it is retried, not a
        # refusal of the lines failing every product of the batch until the next pass
        ("NO_SUCH_FILE", "The JSONL file could not be found. Try uploading the file again."),
    ],
)
def test_a_start_shopify_refused_for_a_while_is_transient_and_leaves_no_intent(
    runner, http, redis_conn, code, message
):
    def refused(request, context):
        if request.json()["operationName"] == "BulkOperationRunMutation":
            error = {"field": ["stagedUploadPath"], "message": message, "code": code}
            return gql_body({"bulkOperationRunMutation": {"bulkOperation": None, "userErrors": [error]}})
        return FakeAdmin()(request, context)

    http.post(URL, json=refused)
    http.post(UPLOAD_URL, status_code=201)
    with pytest.raises(ShopifyTransient, match="not started"):
        runner.run("ProductVariantsBulkUpdate", INPUTS, client_identifier="catalog-1")
    assert not redis_conn.exists(RECORD)


class CountingAdmin(FakeAdmin):
    """FakeAdmin counting the starts, its result link a new one at each read (a signed link)."""

    def __init__(self) -> None:
        super().__init__()
        self.starts = 0

    def __call__(self, request, context):
        if request.json()["operationName"] == "BulkOperationRunMutation":
            self.starts += 1
        answer = super().__call__(request, context)
        operation = (answer.get("data") or {}).get("bulkOperation")
        if operation and operation.get("url"):
            operation["url"] = f"{RESULT_URL}?signature={self.polls}"
        return answer


@pytest.mark.parametrize(
    "failure", [{"status_code": 503}, {"status_code": 403}, {"exc": requests.ConnectionError}]
)
def test_a_result_download_that_fails_leaves_the_operation_for_the_retry_to_read_again(
    runner, http, redis_conn, failure
):
    """The operation finished, its result file did not come (a 5xx, an expired link, the network):
    the record stays, so the job's retry adopts the finished operation and reads its results from
    a fresh link, never sending the whole file (up to 100 MB) a second time."""
    admin = CountingAdmin()
    http.post(URL, json=admin)
    http.post(UPLOAD_URL, status_code=201)
    results = http.get(RESULT_URL, [failure, {"text": RESULT_LINES}])
    with pytest.raises(ShopifyTransient, match="download"):
        runner.run("ProductVariantsBulkUpdate", INPUTS, client_identifier="catalog-1", units=["5", "7"])
    assert redis_conn.hget(RECORD, "id") == BULK_ID.encode()

    result = runner.run("ProductVariantsBulkUpdate", INPUTS, client_identifier="catalog-1", units=["5", "7"])
    assert admin.starts == 1
    assert [line.line_number for line in result.lines] == [0, 1]
    first, second = (r.url for r in results.request_history)
    assert first != second  # the link read again with the operation
    assert not redis_conn.exists(RECORD)


def test_waiting_for_an_operation_left_with_other_lines_keeps_the_slot_leased(
    runner, http, redis_conn, clock
):
    """A run waits for the operation an earlier run left (its file another) before starting its
    own: its slot's lease is renewed meanwhile, or after 10 minutes another worker would take the
    slot while this one still counts against Shopify's limit."""
    left = "gid://shopify/BulkOperation/9"
    redis_conn.hset(RECORD, mapping={"id": left, "digest": "another file"})
    admin = FakeAdmin()
    polls = [0]
    lapsed: list[float] = []

    def answer(request, context):
        body = request.json()
        if body["operationName"] == "BulkOperation" and body["variables"]["id"] == left:
            polls[0] += 1
            clock.now += 400  # each poll, minutes later
            leases = [score for _, score in redis_conn.zrange(runner.slots_key, 0, -1, withscores=True)]
            lapsed.extend(score for score in leases if score < clock.now)
            status = "RUNNING" if polls[0] < 4 else "COMPLETED"
            return gql_body({"bulkOperation": {**bulk_op(status, 2), "id": left}})
        return admin(request, context)

    http.post(URL, json=answer)
    http.post(UPLOAD_URL, status_code=201)
    http.get(RESULT_URL, text=RESULT_LINES)
    runner.run("ProductVariantsBulkUpdate", INPUTS, client_identifier="catalog-1")
    assert polls[0] >= 4 and lapsed == []


def test_a_run_that_keeps_its_record_leaves_the_operation_guarded_until_the_caller_forgets_it(
    runner, http, redis_conn
):
    """The catalog records a part (custom ids set with ~800 metafieldsSet calls for 20k products,
    the bindings committed) after the results are read: until it calls `forget`, a worker killed
    in between leaves the finished operation to the next run, which reads its results again
    (`_adopt`, `leftover_lines`) instead of sending its lines a second time."""
    admin = CountingAdmin()
    http.post(URL, json=admin)
    http.post(UPLOAD_URL, status_code=201)
    results = http.get(RESULT_URL, text=RESULT_LINES)
    first = runner.run("ProductVariantsBulkUpdate", INPUTS, client_identifier="catalog-1", units=["5", "7"],
                       keep_record=True)  # fmt: skip
    assert [line.line_number for line in first.lines] == [0, 1]
    assert redis_conn.hget(RECORD, "id") == BULK_ID.encode()  # read, not yet recorded: still guarded

    # the worker died there: the next sync finds it handed back, its results read from a fresh link
    left = runner.leftover("catalog-1")
    assert left is not None and (left.bulk_id, left.units) == (BULK_ID, ["5", "7"])
    lines = runner.leftover_lines(left)
    assert [(line.line_number, line.ok) for line in lines] == [(0, True), (1, False)]
    assert len({r.url for r in results.request_history}) == 2
    # ... and a run of the same file adopts it: nothing started a second time
    again = runner.run("ProductVariantsBulkUpdate", INPUTS, client_identifier="catalog-1", units=["5", "7"],
                       keep_record=True)  # fmt: skip
    assert admin.starts == 1 and [line.line_number for line in again.lines] == [0, 1]

    runner.forget("catalog-1", "gid://shopify/BulkOperation/another")  # not this record's operation
    assert redis_conn.exists(RECORD)
    runner.forget("catalog-1", BULK_ID)  # the caller committed what the lines did
    assert not redis_conn.exists(RECORD)


def test_a_run_that_does_not_keep_its_record_forgets_the_operation_once_its_results_are_read(
    runner, http, redis_conn
):
    """The other callers (prices, stock policy, publish) collect the results in the run: unchanged."""
    http.post(URL, json=CountingAdmin())
    http.post(UPLOAD_URL, status_code=201)
    http.get(RESULT_URL, text=RESULT_LINES)
    runner.run("ProductVariantsBulkUpdate", INPUTS, client_identifier="prices-1")
    assert not redis_conn.exists(f"{STARTED_PREFIX}{SHOP}:prices-1")


def test_a_kept_run_that_ends_with_no_result_forgets_the_operation(runner, http, redis_conn):
    """Nothing of it to record (it failed, nothing applied): a rerun of the same file must not adopt
    the failed operation again, it sends anew."""
    http.post(URL, json=FakeAdmin(final_status="FAILED", error_code="ACCESS_DENIED"))
    http.post(UPLOAD_URL, status_code=201)
    with pytest.raises(BulkOperationFailed):
        runner.run("ProductVariantsBulkUpdate", INPUTS, client_identifier="catalog-1", keep_record=True)
    assert not redis_conn.exists(RECORD)


def test_keeping_the_record_is_for_one_upload(runner):
    runner.max_upload_bytes = 200
    with pytest.raises(ValueError, match="keep_record"):
        runner.run("ProductVariantsBulkUpdate", INPUTS * 3, client_identifier="catalog-1", keep_record=True)


def test_the_lines_of_a_leftover_shopify_no_longer_knows_are_none(runner, http, redis_conn):
    from shopify_app.admin_api.bulk import Leftover

    http.post(URL, json=gql_body({"bulkOperation": None}))
    assert runner.leftover_lines(Leftover(BULK_ID, ["5"])) == []


def test_a_run_stopped_as_the_started_operation_became_known_leaves_it_guarded(
    client, http, redis_conn, clock, monkeypatch
) -> None:
    """Shopify accepted the start; the run stops (a kill, Redis failing) right after the operation
    became known: its record names it already, so the next run hands its units back once it ends.
    (Known first and recorded after, the record held only the intent, which `_resolve` never matched
    to a known operation: dropped past its grace, the operation unguarded while it still ran.)"""
    runner = client.bulk
    runner.poll_initial, runner.poll_max = 0.01, 0.02
    admin = ListingAdmin(clock, redis_conn)
    http.post(URL, json=admin)
    http.post(UPLOAD_URL, status_code=201)
    known = BulkRunner._remember

    class Stopped(BaseException):
        pass

    def known_then_stopped(self, bulk_id):
        known(self, bulk_id)
        raise Stopped

    monkeypatch.setattr(BulkRunner, "_remember", known_then_stopped)
    with pytest.raises(Stopped):
        runner.run("ProductVariantsBulkUpdate", INPUTS, client_identifier="catalog-1", units=["5", "7"])
    monkeypatch.setattr(BulkRunner, "_remember", known)
    assert len(admin.started) == 1
    assert redis_conn.hgetall(RECORD)[b"id"] == admin.started[0]["id"].encode()
    clock.now += INTENT_GRACE_SECONDS + 1
    left = runner.leftover("catalog-1")
    assert left is not None and left.bulk_id == admin.started[0]["id"] and left.units == ["5", "7"]


def test_a_result_line_holding_a_line_separator_is_one_line_and_an_unreadable_one_is_said() -> None:
    """JSON lets a string hold U+2028, U+2029 and U+0085 raw, and JSONL ends lines with "\\n" alone:
    str.splitlines() cut such a line in two, and the JSON error it raised (no IntegrationError) kept
    the operation's record for every later run to fail on the same way."""
    refused = {"productSet": {"userErrors": [{"field": ["input", "title"], "message": "Título \u2028 ruim"}]}}
    text = (
        json.dumps({"data": refused, "__lineNumber": 0}, ensure_ascii=False)
        + "\n"
        + json.dumps({"data": {"productSet": {"userErrors": []}}, "__lineNumber": 1})
        + "\n"
    )
    assert "\u2028" in text
    lines = map_result_lines(text, [{"a": 1}, {"b": 2}])
    assert [line.line_number for line in lines] == [0, 1]
    assert lines[0].user_errors[0].message == "Título \u2028 ruim" and lines[1].ok
    with pytest.raises(UnexpectedResponse, match="not JSON"):
        map_result_lines('{"data": {}, "__lineNumber": 0\n', [{"a": 1}])


def test_the_result_file_is_read_as_it_streams_lines_across_chunks_and_raw_separators_kept(
    runner, http, monkeypatch
):
    """A catalogue's result file runs to tens of MB: read line by line as it arrives, never whole.
    Lines that straddle the reader's chunks come out whole, a raw U+2028 inside a string does not
    end a line, and every line keeps its number."""
    import io

    from shopify_app.admin_api.results import parse_bulk_operation

    count = 3000  # ~100 bytes a line: several 64 KiB chunks
    rows = [
        {"data": {"productVariantsBulkUpdate": {"userErrors": [], "note": f"linha\u2028{n:06d}" + "x" * 60}},
         "__lineNumber": n}
        for n in range(count)
    ]  # fmt: skip
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
    http.get(RESULT_URL, body=io.BytesIO(body))
    operation = parse_bulk_operation(bulk_op("COMPLETED", count, RESULT_URL))
    whole = property(lambda self: pytest.fail("the result file was read whole"))
    monkeypatch.setattr(requests.Response, "text", whole)
    monkeypatch.setattr(requests.Response, "content", whole)
    lines = runner.download(operation, [{} for _ in range(count)])
    assert [line.line_number for line in lines] == list(range(count))
    assert all(line.ok for line in lines)
    assert lines[1234].payload["note"] == "linha\u2028001234" + "x" * 60
