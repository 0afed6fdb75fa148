"""Run the emulator in a background thread (tests, the demo): `serve_in_thread(port=0)`."""

from __future__ import annotations

import threading
from dataclasses import dataclass, fields
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from sandbox.shopify.clock import Clock
from sandbox.shopify.options import SandboxOptions
from sandbox.shopify.sandbox import Sandbox
from sandbox.shopify.server import create_app


class _RequestHandler(WSGIRequestHandler):
    """werkzeug's handler with TCP_NODELAY: it writes the headers and the body of an answer in
    separate sends, and with Nagle on, the body of a large GraphQL answer could wait for the
    client's delayed ACK of the headers (tens of milliseconds per call)."""

    disable_nagle_algorithm = True


@dataclass
class SandboxHandle:
    """A running emulator: `url` to talk to, `sandbox` for in-process assertions, `stop()`."""

    url: str
    port: int
    sandbox: Sandbox
    _server: BaseWSGIServer
    _thread: threading.Thread

    def wait(self) -> None:
        """Block while the server runs (the command line entrypoint)."""
        self._thread.join()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()
        self.sandbox.close()

    def __enter__(self) -> SandboxHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_in_thread(
    port: int = 0, host: str = "127.0.0.1", clock: Clock | None = None, **options: Any
) -> SandboxHandle:
    """Start an emulator on `host:port` (0 = a free port). `options` are SandboxOptions fields."""
    known = {f.name for f in fields(SandboxOptions)}
    unknown = set(options) - known
    if unknown:
        raise TypeError(f"unknown sandbox options: {sorted(unknown)}")
    sandbox_options = SandboxOptions(**options)
    server = make_server(
        host, port, None, threaded=True, request_handler=_RequestHandler
    )  # app set once the URL is known
    url = f"http://{host}:{server.server_port}"
    if not sandbox_options.public_url:
        sandbox_options.public_url = url
    sandbox = Sandbox(sandbox_options, clock)
    server.app = create_app(sandbox)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="sandbox-shopify", daemon=True
    )
    thread.start()
    return SandboxHandle(url, server.server_port, sandbox, server, thread)
