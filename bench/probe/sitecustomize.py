"""Loaded by the benchmarked server when bench/probe is on its PYTHONPATH: records each
garbage collection that pauses the process for more than PAUSE_MS, as one line
"<generation> <milliseconds>" appended to the file BENCH_GC_LOG names; with BENCH_PROFILE,
profiles the event loop's thread between SIGUSR1 and SIGUSR2."""

import gc
import os
import time

PAUSE_MS = 5.0
_log = os.environ.get("BENCH_GC_LOG")
_started = 0.0


def _pauses(phase: str, info: dict[str, int]) -> None:
    global _started
    if phase == "start":
        _started = time.perf_counter()
        return
    paused = (time.perf_counter() - _started) * 1e3
    if paused > PAUSE_MS and _log is not None:
        with open(_log, "a") as log:
            log.write(f"{info['generation']} {paused:.1f}\n")


if _log is not None:
    gc.callbacks.append(_pauses)


_profile = os.environ.get("BENCH_PROFILE")
if _profile is not None:
    import cProfile
    import signal

    _profiler = cProfile.Profile()
    _profile_file = _profile

    def _start(_signal: int, _frame: object) -> None:
        _profiler.enable()

    def _stop(_signal: int, _frame: object) -> None:
        """Profiles the main thread (the event loop) from SIGUSR1 to SIGUSR2, into the file
        BENCH_PROFILE names."""
        _profiler.disable()
        _profiler.dump_stats(_profile_file)

    signal.signal(signal.SIGUSR1, _start)
    signal.signal(signal.SIGUSR2, _stop)
