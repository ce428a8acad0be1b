"""Whether a process that recorded work (a sync run) is still there to finish it.

A process killed with ``kill -9``, by the OOM killer or by a power cut runs no cleanup,
so what it recorded as under way stays so. What it can leave is its process id and its
host's name: on the same host, a process id that no longer exists, or that now belongs
to a process started after the work began (ids are reused, from 1 again after a
reboot), means the work will never be finished.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

_PROC = Path("/proc")


def this_host() -> str:
    """This machine's host name, as recorded beside a process id."""
    return socket.gethostname()


def process_ended(pid: int, started_at: float) -> bool:
    """Whether the process ``pid`` of this host, that began some work at ``started_at``
    (Unix time), is gone: no process has that id, or the one that has it started later.
    """
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # another user's process: it exists
    began = _process_start_time(pid)
    # a second of slack: the start time is read in clock ticks since boot
    return began is not None and began > started_at + 1.0


def _process_start_time(pid: int) -> float | None:
    """When process ``pid`` started (Unix time), from Linux's ``/proc``; None elsewhere."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
        boot = next(
            float(line.split()[1])
            for line in (_PROC / "stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (OSError, StopIteration, ValueError, IndexError):
        return None
    # the fields after the command name (which may hold spaces and parentheses):
    # field 22 of proc(5), the start time in clock ticks after boot, is the 20th of these
    fields = stat[stat.rfind(")") + 2 :].split()
    try:
        ticks = int(fields[19])
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (IndexError, ValueError, OSError):
        return None
