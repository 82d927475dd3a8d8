"""CPU seconds used by processes of the benchmarked system (psutil), for per-event CPU figures."""

from __future__ import annotations

import psutil


def process_cpu_seconds(process: psutil.Process, with_children: bool = False) -> float:
    """User + system CPU seconds of `process`; with its children (PostgreSQL backends, render
    processes), live and exited. 0 once it is gone."""
    try:
        times = process.cpu_times()
        total = times.user + times.system
        if with_children:
            total += times.children_user + times.children_system
            for child in process.children(recursive=True):
                try:
                    child_times = child.cpu_times()
                    total += child_times.user + child_times.system
                except psutil.NoSuchProcess:
                    pass
        return total
    except psutil.NoSuchProcess:
        return 0.0
