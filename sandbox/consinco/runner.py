"""Run the sandbox ERP over HTTP: in a thread for tests and the demo, or in the foreground.

`serve_in_thread(port=0, **options)` binds (port 0 = a free port), serves with a threaded
werkzeug server and returns a handle with `.url` (the API base the app is configured with),
`.erp` (lifecycle, simulator, fault switches) and `.stop()`.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from sandbox.consinco.api import BASE_PATH, create_app
from sandbox.consinco.erp import ConsincoErp

logger = logging.getLogger(__name__)

DEFAULT_PORT = 8702


class SandboxHandle:
    """A running sandbox ERP: `.url` is the SmPedidoVendaAPI base, `.root` the server root."""

    def __init__(self, erp: ConsincoErp, server: BaseWSGIServer, thread: threading.Thread | None) -> None:
        self.erp = erp
        self.server = server
        self.thread = thread
        self.root = f"http://{server.host}:{server.port}/"
        self.url = f"http://{server.host}:{server.port}{BASE_PATH}"
        self.port = server.port
        erp.root_url = self.root

    def stop(self) -> None:
        """Stop serving, stop background threads and release the database."""
        self.server.shutdown()
        if self.thread is not None:
            self.thread.join(timeout=10)
        self.server.server_close()
        self.erp.close()

    def __enter__(self) -> SandboxHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _server(erp: ConsincoErp, host: str, port: int) -> BaseWSGIServer:
    return make_server(host, port, create_app(erp), threaded=True)


def serve_in_thread(port: int = 0, host: str = "127.0.0.1", erp: ConsincoErp | None = None,
                    **options: Any) -> SandboxHandle:  # fmt: skip
    """Start the sandbox in a daemon thread. `options` go to ConsincoErp (db, skus, companies,
    segments, seed, user, password, token_ttl, quantity_unit, discount_per)."""
    erp = erp or ConsincoErp(**options)
    server = _server(erp, host, port)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="consinco-sandbox", daemon=True
    )
    thread.start()
    handle = SandboxHandle(erp, server, thread)
    logger.info("consinco sandbox: serving %s", handle.url)
    return handle


def serve_forever(port: int = DEFAULT_PORT, host: str = "127.0.0.1", **options: Any) -> None:
    """Serve in the foreground until interrupted (the `python -m sandbox.consinco` path)."""
    erp = ConsincoErp(**options)
    server = _server(erp, host, port)
    handle = SandboxHandle(erp, server, None)
    print(
        f"Consinco sandbox: SmPedidoVendaAPI at {handle.url}  (control: {handle.root}_sandbox/estado)",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        erp.close()
