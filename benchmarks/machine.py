"""The machine a benchmark ran on, in one line, so that runs on different days (and on a
machine shared with other work) can be compared:

    from benchmarks.machine import cpu_calibration_ms, load_average_text, describe_machine
    describe_machine()  # "load average 0.52 0.61 0.70, 2 CPU, calibration 212 ms"

- ``load_average_text()``: the 1, 5 and 15-minute load averages (``os.getloadavg``): above
  the number of CPUs, other work was waiting for a core while the benchmark ran.
- ``cpu_calibration_ms()``: the median of 5 timings of a fixed pure-Python workload (SHA-256
  over 4 MB fed 64 bytes at a time, then a fixed integer loop), in milliseconds. It moves
  with the speed of one core as this Python sees it — a slower or busier machine gives a
  larger figure — and is what the benchmarks' own times should be read against. The
  workload must never change: :func:`calibration_workload` returns a fixed value that a
  test checks.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import time

CALIBRATION_RUNS = 5
CALIBRATION_BYTES = 4 * 1024 * 1024
CALIBRATION_CHUNK = 64
CALIBRATION_LOOP = 1_000_000


def calibration_workload() -> str:
    """The fixed workload: SHA-256 over 4 MB in 64-byte updates, then an integer loop. Returns
    a digest of both results (the same on every machine)."""
    block = bytes(range(256)) * (CALIBRATION_BYTES // 256)
    view = memoryview(block)
    digest = hashlib.sha256()
    for start in range(0, CALIBRATION_BYTES, CALIBRATION_CHUNK):
        digest.update(view[start : start + CALIBRATION_CHUNK])
    total = 0
    for i in range(CALIBRATION_LOOP):
        total = (total + i * i) % 1_000_003
    digest.update(total.to_bytes(4, "big"))
    return digest.hexdigest()


def cpu_calibration_ms(runs: int = CALIBRATION_RUNS) -> float:
    """Median wall-clock time of ``runs`` runs of :func:`calibration_workload`, in ms."""
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        calibration_workload()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def load_average_text() -> str:
    """``"0.52 0.61 0.70"``: the 1, 5 and 15-minute load averages."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def describe_machine() -> str:
    """``"load average 0.52 0.61 0.70, 2 CPU, calibration 212 ms"`` (the load average is read
    before the calibration runs, which would raise it)."""
    load = load_average_text()
    return f"load average {load}, {os.cpu_count()} CPU, calibration {cpu_calibration_ms():.0f} ms"
