"""Pages fetched ahead of their consumer, in a worker thread (erp/paging.py's reads)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

_DONE = object()


class Prefetched:
    """Iterates a page generator in a worker thread, up to `depth` pages ahead of the consumer.

    Why: the ERP builds the next page (a round trip of tens of milliseconds) while this process
    transforms the current one; the worker mostly waits on the socket (and parses what it gets),
    so even with the GIL the two overlap. Errors surface to the consumer in page order; closing the iterator
    early stops the worker after its request in flight (joined, so the client's HTTP session is
    never used by two threads at once).
    """

    def __init__(self, pages: Iterator[Any], depth: int) -> None:
        self._pages = pages
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name="erp-page-prefetch", daemon=True)
        self._thread.start()

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _work(self) -> None:
        try:
            for body in self._pages:
                if not self._put((body, None)):
                    return
        except BaseException as exc:  # handed to the consumer, raised there in page order
            self._put((None, exc))
            return
        self._put((_DONE, None))

    def __iter__(self) -> Iterator[Any]:
        while True:
            body, exc = self._queue.get()
            if exc is not None:
                raise exc
            if body is _DONE:
                return
            yield body

    def ready(self) -> bool:
        """A page (or the end, or an error) is waiting: the next step of the iterator won't block."""
        return not self._queue.empty()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
