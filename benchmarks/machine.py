"""What the machine was doing during a benchmark, so that runs on different days (or on a
busy machine) can be compared: the load average, the number of CPUs, and a CPU-calibration
figure — the time a fixed pure-Python workload takes here and now. A page at 40 ms with a
calibration of 100 ms and the same page at 80 ms with a calibration of 200 ms are the same
speed: compare page / calibration ratios, not milliseconds."""

from __future__ import annotations

import hashlib
import os
import statistics
import time

_CHUNK = bytes(range(64))


def _workload() -> int:
    """About 0.1 s of single-core work on a 2020s server core: hashing (C) and an integer
    loop with a dict (the interpreter), the two kinds of work a page does."""
    digest = hashlib.sha256()
    for _ in range(65_536):  # 4 MiB in 64-byte chunks
        digest.update(_CHUNK)
    table = dict.fromkeys(range(1024), 0)
    total = 0
    for i in range(300_000):
        table[i & 1023] = i
        total += table[(i * 7) & 1023]
    return total + digest.digest()[0]


def cpu_calibration_ms(rounds: int = 5) -> float:
    """The median time of ``rounds`` runs of the fixed workload, in milliseconds."""
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        _workload()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def load_average_text() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def describe_machine(calibration_ms: float | None = None) -> str:
    """One line: load average (1, 5, 15 min), CPUs, calibration."""
    calibration = cpu_calibration_ms() if calibration_ms is None else calibration_ms
    return (
        f"load average {load_average_text()}, {os.cpu_count()} CPU, "
        f"CPU calibration {calibration:.0f} ms"
    )
