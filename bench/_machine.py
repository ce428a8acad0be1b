"""Is the machine quiet enough to time anything? One helper for every ``bench/`` script.

A timing taken while other jobs share the cores is a lower bound at best (the 2-core
development machine is shared), so every script:

1. prints the load average and the cores before it starts, and refuses to run when the
   1-minute load is above ``--max-load`` (default :data:`QUIET_LOAD_PER_CORE` x cores, i.e.
   0.5 on 2 cores: the "load < 0.5" the speed issue calls quiet), unless ``--force``;
2. measures, while it runs, how many cores *other* processes used (the machine's busy CPU
   time from ``/proc/stat`` minus this process's and its children's own), which catches a
   job that started after the check;
3. prints a closing verdict under its table: ``quiet`` or ``MEASURED UNDER LOAD`` with the
   numbers, so a table copied into the docs carries its conditions with it.

The load average after the run is printed too but not judged: a benchmark that keeps both
cores busy raises it itself. CPU-time figures (``time.process_time``, ``getrusage``) are
less sensitive to other jobs than wall-clock ones; :func:`cpu_seconds` gives them.

Usage::

    from _machine import Machine, add_machine_arguments
    add_machine_arguments(parser)
    machine = Machine.check(arguments)      # prints the load, may exit
    ...                                     # run and print the table
    machine.report()                        # prints the verdict lines
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

# Busy when the 1-minute load is above this many runnable tasks per core.
QUIET_LOAD_PER_CORE = 0.25
# Busy when other processes used more than this many cores on average during the run.
QUIET_OTHER_CORES = 0.15
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cores() -> int:
    """Cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


# The instruction sets the embedding kernels choose between (int8 needs VNNI to be fast).
SIMD_FLAGS = (
    "sse4_2",
    "avx",
    "avx2",
    "fma",
    "avx512f",
    "avx512bw",
    "avx512_vnni",
    "avx_vnni",
    "amx_int8",
)


def cpu_model_and_flags() -> tuple[str, set[str]] | None:
    """The first CPU's model name and flags as the kernel lists them (what ``lscpu``
    prints); None where ``/proc/cpuinfo`` cannot be read."""
    model, flags = "unknown CPU", set[str]()
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and model == "unknown CPU":
            model = value.strip()
        elif key.strip() == "flags" and not flags:
            flags = set(value.split())
    return model, flags


def cpu_description() -> str:
    """The CPU's model name and which of :data:`SIMD_FLAGS` its ``lscpu`` flags list."""
    found = cpu_model_and_flags()
    if found is None:
        return "unknown CPU"
    model, flags = found
    present = [flag for flag in SIMD_FLAGS if flag in flags]
    absent = [flag for flag in SIMD_FLAGS if flag not in flags]
    return f"{model}; flags: {' '.join(present) or 'none'} (not: {' '.join(absent) or 'none'})"


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def machine_busy_seconds() -> float:
    """CPU seconds all cores have been busy since boot (``/proc/stat``); 0 where absent."""
    try:
        first = Path("/proc/stat").read_text().split("\n")[0].split()[1:]
    except OSError:
        return 0.0
    ticks = [int(value) for value in first]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / CLOCK_TICKS  # all but idle and iowait


def process_tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of process ``pid``, its children it reaped (``cutime``/``cstime``) and its
    live children: a server's total (e.g. a PostgreSQL postmaster and its backends); 0
    where ``/proc`` is absent or the process is gone."""

    def fields(stat: Path) -> list[str]:
        return stat.read_text().rpartition(")")[2].split()

    try:
        own = fields(Path(f"/proc/{pid}/stat"))
    except OSError:
        return 0.0
    ticks = sum(int(value) for value in own[11:15])  # utime stime cutime cstime
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            child = fields(stat)
        except OSError:
            continue
        if int(child[1]) == pid:  # ppid
            ticks += sum(int(value) for value in child[11:15])
    return ticks / CLOCK_TICKS


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and its waited-for children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def add_machine_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-load",
        type=float,
        default=QUIET_LOAD_PER_CORE * cores(),
        help="refuse to run when the 1-minute load average is above this "
        f"(default {QUIET_LOAD_PER_CORE} x cores = {QUIET_LOAD_PER_CORE * cores():.2f})",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="run on a busy machine anyway; the table is then marked MEASURED UNDER LOAD",
    )


@dataclass
class Machine:
    """The conditions of one benchmark run, from its start to :meth:`report`."""

    max_load: float
    load_before: tuple[float, float, float]
    started_wall: float = field(default_factory=time.perf_counter)
    started_busy: float = field(default_factory=machine_busy_seconds)
    started_cpu: float = field(default_factory=cpu_seconds)
    excluded_cpu: float = 0.0

    @classmethod
    def check(cls, arguments: argparse.Namespace, out: object = None) -> Machine:
        """Print the load; exit (status 3) when it is above ``--max-load`` without ``--force``."""
        load = load_average()
        stream = out or sys.stderr
        print(
            f"[machine] {cores()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
            f"(quiet below {arguments.max_load:.2f})",
            file=stream,  # type: ignore[arg-type]
            flush=True,
        )
        if load[0] > arguments.max_load and not arguments.force:
            raise SystemExit(
                f"the machine is busy: 1-minute load {load[0]:.2f} > {arguments.max_load:.2f}. "
                "Timings now would be lower bounds; wait for a quiet machine, or pass --force "
                "to run anyway (the table is then marked MEASURED UNDER LOAD)."
            )
        return cls(max_load=arguments.max_load, load_before=load)

    def exclude(self, seconds: float) -> None:
        """Count ``seconds`` of CPU used by processes of this benchmark that are not its
        children (e.g. a server it started in its own session) as its own, not as load."""
        self.excluded_cpu += seconds

    def other_cores(self) -> float:
        """Average cores used by other processes since the start."""
        wall = max(time.perf_counter() - self.started_wall, 1e-9)
        busy = machine_busy_seconds() - self.started_busy
        own = cpu_seconds() - self.started_cpu + self.excluded_cpu
        return max(0.0, (busy - own) / wall)

    def quiet(self) -> bool:
        return self.load_before[0] <= self.max_load and self.other_cores() <= QUIET_OTHER_CORES

    def verdict(self) -> list[str]:
        """The closing lines every table ends with."""
        after = load_average()
        other = self.other_cores()
        state = "quiet" if self.quiet() else "MEASURED UNDER LOAD: figures are lower bounds"
        return [
            f"machine: {cores()} cores; 1-min load before {self.load_before[0]:.2f} "
            f"(limit {self.max_load:.2f}), after {after[0]:.2f}; other processes used "
            f"{other:.2f} cores during the run (limit {QUIET_OTHER_CORES}) -> {state}",
        ]

    def report(self, out: object = None) -> None:
        for line in self.verdict():
            print(line, file=out or sys.stdout, flush=True)  # type: ignore[arg-type]
