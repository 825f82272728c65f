"""Where the time of an async call goes: cProfile over repeated runs, summarised as the top
functions (cumulative and own time) and own time per package, in milliseconds per run."""

import cProfile
import pstats
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path

from .common import REPO, say

_Key = tuple[str, int, str]


async def profile_async(call: Callable[[], Awaitable[object]], *, runs: int, top: int) -> None:
    """Profile `runs` awaits of `call` in the running loop and print where the time went.

    Only this thread is seen: aiosqlite's worker thread and the database server are not,
    so their time shows up as the event loop waiting (epoll / select).
    """
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        await call()
    profiler.disable()
    stats = pstats.Stats(profiler)
    table: dict[_Key, tuple[int, int, float, float, object]] = stats.stats  # type: ignore[attr-defined]
    total = max(stats.total_tt, 1e-12)  # type: ignore[attr-defined]
    say(f"  profiled {runs} runs: {total / runs * 1e3:.2f} ms of this thread per run")
    _print_top(table, runs, top, by_cumulative=True)
    _print_top(table, runs, top, by_cumulative=False)
    _print_packages(table, runs, total)


def _print_top(
    table: dict[_Key, tuple[int, int, float, float, object]],
    runs: int,
    top: int,
    *,
    by_cumulative: bool,
) -> None:
    def seconds(item: tuple[_Key, tuple[int, int, float, float, object]]) -> float:
        return item[1][3] if by_cumulative else item[1][2]

    shown = [item for item in table.items() if not _harness(item[0])]
    ranked = sorted(shown, key=seconds, reverse=True)[:top]
    say(f"\n  top {top} by {'cumulative' if by_cumulative else 'own'} time (ms per run)")
    say(f"  {'cum ms':>8}  {'own ms':>8}  {'calls/run':>9}  function")
    for key, (_primitive, calls, own, cumulative, _callers) in ranked:
        say(
            f"  {cumulative / runs * 1e3:>8.3f}  {own / runs * 1e3:>8.3f}"
            f"  {calls / runs:>9.1f}  {_label(key)}"
        )


def _print_packages(
    table: dict[_Key, tuple[int, int, float, float, object]], runs: int, total: float
) -> None:
    own: dict[str, float] = defaultdict(float)
    for key, (_primitive, _calls, seconds, _cumulative, _callers) in table.items():
        own[_package(key)] += seconds
    say("\n  own time by package (ms per run, share)")
    for package, seconds in sorted(own.items(), key=lambda item: item[1], reverse=True)[:15]:
        say(f"  {seconds / runs * 1e3:>8.3f}  {seconds / total:>6.1%}  {package}")


def _harness(key: _Key) -> bool:
    """The benchmark's own frames and the loop's entry point, which wrap everything."""
    return _short(key[0]).startswith(("bench/", "uvloop/"))


def _label(key: _Key) -> str:
    filename, line, function = key
    if filename == "~":
        return function
    return f"{_short(filename)}:{line}({function})"


def _short(filename: str) -> str:
    path = Path(filename)
    parts = path.parts
    if "site-packages" in parts:
        return "/".join(parts[parts.index("site-packages") + 1 :])
    if path.is_relative_to(REPO):
        return str(path.relative_to(REPO))
    if "python3.11" in parts:
        return "/".join(parts[parts.index("python3.11") + 1 :])
    return filename


def _package(key: _Key) -> str:
    filename, _line, function = key
    if filename == "~":
        if "poll" in function or "select" in function:
            return "waiting for I/O or threads (epoll/select)"
        return "builtins (C functions)"
    short = _short(filename)
    first = short.split("/", 1)[0]
    return first.removesuffix(".py")
