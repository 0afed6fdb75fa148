"""Bulk mutations: staged uploads of JSONL variables and the background runner.

Each JSONL line is executed through `executor.run` (the same resolvers as a single call) with
`bulk=True`: not charged against the bucket. At most `options.bulk_max_running` operations run
per shop. The result file has one line per input line: `{"data": ..., "__lineNumber": n}` (plus
`errors` when the line failed). When done, `bulk_operations/finish` is emitted.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import uuid
from typing import TYPE_CHECKING, Any

from sandbox.shopify.clock import iso
from sandbox.shopify.gids import num_of

if TYPE_CHECKING:
    from sandbox.shopify.sandbox import Sandbox

log = logging.getLogger(__name__)

ACTIVE = ("CREATED", "RUNNING", "CANCELING")


class BulkRunner:
    """Staged files and bulk operation threads of one emulator."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._threads: dict[str, threading.Thread] = {}
        self._stopping = threading.Event()

    # -- staged uploads --------------------------------------------------------------------
    def staged_target(self, shop: str, filename: str, mime_type: str) -> dict[str, Any]:
        """A StagedMediaUploadTarget pointing at this emulator's upload endpoint."""
        key = f"tmp/{shop}/bulk/{uuid.uuid4()}/{filename}"
        url = f"{self.sandbox.options.public_url}/_staged_uploads"
        return {
            "url": url,
            "resourceUrl": f"{url}/{key}",
            "parameters": [
                {"name": "key", "value": key},
                {"name": "Content-Type", "value": mime_type},
                {"name": "success_action_status", "value": "201"},
                {"name": "acl", "value": "private"},
                {"name": "policy", "value": secrets.token_urlsafe(24)},
            ],
        }

    def store_upload(self, key: str, data: bytes) -> None:
        self.sandbox.store.put_blob(f"staged:{key}", data)

    # -- operations ------------------------------------------------------------------------
    def running(self, shop: str) -> list[dict[str, Any]]:
        return [op for op in self.sandbox.store.scan(shop, "BulkOperation") if op["status"] in ACTIVE]

    def start(
        self, shop: str, api_key: str, mutation: str, staged_path: str, client_identifier: str | None
    ) -> dict:
        """Create the operation document and start its thread (checks are the resolver's)."""
        store = self.sandbox.store
        now = iso(self.sandbox.clock.now())
        op = {
            "__typename": "BulkOperation",
            "id": store.new_gid("BulkOperation"),
            "status": "CREATED",
            "type": "MUTATION",
            "query": mutation,
            "createdAt": now,
            "completedAt": None,
            "objectCount": "0",
            "rootObjectCount": "0",
            "fileSize": None,
            "url": None,
            "partialDataUrl": None,
            "errorCode": None,
            "apiKey": api_key,
            "clientIdentifier": client_identifier,
            "stagedUploadPath": staged_path,
        }
        store.put(shop, op, keys={"bulk.status": "CREATED"})
        thread = threading.Thread(
            target=self._run, args=(shop, op["id"]), name=f"sandbox-bulk-{num_of(op['id'])}", daemon=True
        )
        self._threads[op["id"]] = thread
        thread.start()
        return op

    def cancel(self, shop: str, op_id: str) -> dict | None:
        op = self.sandbox.store.get(shop, op_id)
        if op is not None and op["status"] in ("CREATED", "RUNNING"):
            op["status"] = "CANCELING"
            self.sandbox.store.put(shop, op)
        return op

    def _save(self, shop: str, op: dict) -> None:
        with self.sandbox.store.lock:
            current = self.sandbox.store.get(shop, op["id"])
            if current and current["status"] == "CANCELING" and op["status"] == "RUNNING":
                op["status"] = "CANCELING"
            self.sandbox.store.put(shop, op, keys={"bulk.status": op["status"]})

    def _run(self, shop: str, op_id: str) -> None:
        from sandbox.shopify import executor

        store = self.sandbox.store
        op = store.get(shop, op_id)
        if op is None:  # the request that created it rolled back
            return
        op["status"] = "RUNNING"
        self._save(shop, op)
        lines: list[str] = []
        try:
            data = store.get_blob(f"staged:{op['stagedUploadPath']}") or b""
            # JSONL lines end at "\n" alone: a JSON string may hold U+2028, U+0085... raw, where
            # str.splitlines() would cut the line in two and number every later line wrong.
            for number, raw in enumerate(data.decode("utf-8").split("\n")):
                if self._stopping.is_set() or op["status"] == "CANCELING":
                    break
                if not raw.strip():
                    continue
                lines.append(json.dumps(self._line(executor, shop, op, raw, number)))
                op["objectCount"] = op["rootObjectCount"] = str(len(lines))
                if len(lines) % 100 == 0:
                    self._save(shop, op)
            op["status"] = "CANCELED" if op["status"] == "CANCELING" else "COMPLETED"
        except Exception:
            log.exception("sandbox bulk operation %s failed", op_id)
            op["status"], op["errorCode"] = "FAILED", "INTERNAL_SERVER_ERROR"
        body = ("\n".join(lines) + ("\n" if lines else "")).encode()
        store.put_blob(f"bulk:{op_id}", body)
        url = f"{self.sandbox.options.public_url}/_bulk_results/{num_of(op_id)}.jsonl"
        op["url" if op["status"] == "COMPLETED" else "partialDataUrl"] = (
            url if lines or op["status"] == "COMPLETED" else None
        )
        op["fileSize"] = str(len(body))
        op["completedAt"] = iso(self.sandbox.clock.now())
        self._save(shop, op)
        self.sandbox.emit(
            shop,
            "bulk_operations/finish",
            {
                "admin_graphql_api_id": op_id,
                "completed_at": op["completedAt"],
                "created_at": op["createdAt"],
                "error_code": op["errorCode"].lower() if op["errorCode"] else None,
                "status": op["status"].lower(),
                "type": "mutation",
            },
        )

    def _line(self, executor: Any, shop: str, op: dict, raw: str, number: int) -> dict[str, Any]:
        try:
            variables = json.loads(raw)
        except ValueError as error:
            return {
                "errors": [{"message": f"Invalid JSON on line {number}: {error}"}],
                "__lineNumber": number,
            }
        if not isinstance(variables, dict):
            return {"errors": [{"message": f"Line {number} is not a JSON object"}], "__lineNumber": number}
        result = executor.run(self.sandbox, shop, op["apiKey"], op["query"], variables, bulk=True)
        out: dict[str, Any] = {}
        if "errors" in result:
            out["errors"] = result["errors"]
        out["data"] = result.get("data")
        out["__lineNumber"] = number
        return out

    def result_file(self, op_num: int) -> bytes | None:
        return self.sandbox.store.get_blob(f"bulk:gid://shopify/BulkOperation/{op_num}")

    def wait(self, op_id: str, timeout: float = 30.0) -> None:
        thread = self._threads.get(op_id)
        if thread is not None:
            thread.join(timeout)

    def stop(self) -> None:
        self._stopping.set()
        for thread in list(self._threads.values()):
            thread.join(timeout=5)
