"""Time another x86 CPU's kernels on this one: hide CPU features from the benchmark process.

onnxruntime (and numpy, OpenBLAS, torch) pick their kernels by the CPUID instruction, so
an int8 model runs AMX or AVX-512 VNNI code on this machine and AVX2 code on a CPU without
them (issue 23's AMD EPYC: AVX2 + FMA only). ``--hide-cpu-features PRESET`` re-executes the
benchmark with ``hide_cpu_features.c`` preloaded, which makes CPUID fault and answers it
without the preset's features (see that file), so every library in the process runs the
smaller CPU's code paths, on this CPU's cores and clock.

Presets, from the smallest CPU up:

* ``avx2``: no AVX-512, no AVX-VNNI, no AMX (AMD Zen 2/3, Intel Haswell to Comet Lake);
* ``avx2-vnni``: no AVX-512, no AMX, AVX-VNNI kept (Intel Alder Lake and later client CPUs);
* ``avx512-vnni``: no AMX (Intel Cascade Lake to Ice Lake servers, AMD Zen 4/5).

Needs Linux, a C compiler (``cc``) and the ``cpuid_fault`` CPU flag (KVM guests have it).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from _machine import cpu_model_and_flags

BENCH_DIR = Path(__file__).resolve().parent
SOURCE = BENCH_DIR / "hide_cpu_features.c"
LIBRARY = BENCH_DIR / "out" / "hide_cpu_features.so"
PRESETS = {
    "avx2": ("avx512", "avx_vnni", "amx"),
    "avx2-vnni": ("avx512", "amx"),
    "avx512-vnni": ("amx",),
}
# Set on the re-executed process, so it knows not to re-execute again.
MARKER = "PAPERFEED_BENCH_HIDDEN_PRESET"


def hide_cpu_features(preset: str) -> None:
    """Re-execute this Python process with ``preset``'s features hidden; return at once
    when that is already the case (the re-executed process)."""
    if preset not in PRESETS:
        raise SystemExit(f"unknown --hide-cpu-features {preset!r} (expected {', '.join(PRESETS)})")
    if os.environ.get(MARKER) == preset:
        return
    if not has_cpuid_faulting():
        raise SystemExit(
            "--hide-cpu-features needs the cpuid_fault CPU flag (/proc/cpuinfo), absent here"
        )
    build_library(LIBRARY)
    sys.stdout.flush()
    sys.stderr.flush()
    arguments = [sys.executable, *sys.argv]
    os.execve(sys.executable, arguments, hidden_environment(preset, LIBRARY, os.environ))


def has_cpuid_faulting() -> bool:
    """Whether the kernel lists the ``cpuid_fault`` flag for this CPU."""
    found = cpu_model_and_flags()
    return found is not None and "cpuid_fault" in found[1]


def hidden_environment(preset: str, library: Path, base: Mapping[str, str]) -> dict[str, str]:
    """``base`` with ``library`` preloaded and ``preset``'s features named for hiding."""
    environment = dict(base)
    environment["LD_PRELOAD"] = " ".join(
        part for part in (str(library), environment.get("LD_PRELOAD", "")) if part
    )
    environment["HIDE_CPU_FEATURES"] = ",".join(PRESETS[preset])
    environment[MARKER] = preset
    return environment


def hidden_description() -> str:
    """One line for the table: what is hidden and what CPUID now reports; '' if nothing is."""
    preset = os.environ.get(MARKER)
    if not preset:
        return ""
    library = ctypes.CDLL(None)  # the process's own symbols, the preloaded library's among them
    visible = ctypes.create_string_buffer(256)
    library.hidden_cpu_features_visible(visible, ctypes.c_size_t(len(visible)))
    library.hidden_cpu_features_answered.restype = ctypes.c_long
    return (
        f"hidden by bench/hide_cpu_features.c (--hide-cpu-features {preset}): "
        f"{', '.join(PRESETS[preset])}; CPUID in this process reports: "
        f"{visible.value.decode()} ({library.hidden_cpu_features_answered()} CPUID "
        "instructions answered)"
    )


def build_library(library: Path) -> None:
    """Compile ``hide_cpu_features.c`` to ``library`` unless it is there and newer."""
    if library.exists() and library.stat().st_mtime >= SOURCE.stat().st_mtime:
        return
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise SystemExit("--hide-cpu-features needs a C compiler (cc) to build its library")
    library.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [compiler, "-O2", "-Wall", "-shared", "-fPIC", "-o", str(library), str(SOURCE)],
        check=True,
    )
