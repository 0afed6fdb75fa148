"""CPU readings from Linux /proc for the benchmarks (0 or None elsewhere).

Throughput and wall time swing between identical runs on a shared machine; CPU seconds say what
a run cost and, divided by the cores, the least wall time the same work could take here.
"""

from __future__ import annotations

import os


def busy_seconds() -> float:
    """Busy CPU seconds of the whole machine so far (every core, every process)."""
    try:
        with open("/proc/stat") as stat:
            ticks = [int(n) for n in stat.readline().split()[1:]]
    except OSError:
        return 0.0
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")


def process_seconds(pid: int) -> float | None:
    """CPU seconds (user + system) of one process and its reaped children, or None when it is gone."""
    read = stat(pid)
    return read[1] if read else None


def stat(pid: int) -> tuple[str, float] | None:
    """(program name, CPU seconds so far of it and its reaped children), or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            text = handle.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    ticks = sum(int(n) for n in fields[11:15])  # utime, stime, cutime, cstime
    return text[text.index("(") + 1 : text.rindex(")")], ticks / os.sysconf("SC_CLK_TCK")
