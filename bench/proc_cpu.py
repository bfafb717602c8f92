"""CPU seconds used by a process tree, read from /proc (no dependencies: both bench-compare
venvs import it). On a shared, loaded machine wall time depends on the neighbours; the CPU a
side spent does much less, so bench-compare reports both."""

from __future__ import annotations

import os
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float, float] | None:
    """(ppid, own user+system s, reaped children's user+system s) of one process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # after "pid (comm) "
    ppid = int(fields[1])
    utime, stime, cutime, cstime = (int(f) for f in fields[11:15])
    return ppid, (utime + stime) / _TICK, (cutime + cstime) / _TICK


def tree_cpu_s(*roots: int) -> float:
    """CPU seconds of each root, its live descendants, and the children it already reaped
    (exited Postgres backends count in the postmaster's)."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                stats[int(entry.name)] = stat
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    total = 0.0
    for root in roots:
        if root not in stats:
            continue
        total += stats[root][2]
        todo = [root]
        while todo:
            pid = todo.pop()
            total += stats[pid][1]
            todo.extend(children.get(pid, []))
    return total


def postmaster_pid(pgdata: Path) -> int:
    return int((pgdata / "postmaster.pid").read_text().split()[0])
