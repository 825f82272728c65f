"""`jobmonitor` run as a process: the command of this environment, and waiting until it serves."""

import asyncio
import sys
from pathlib import Path

import httpx
import pytest

from server import cli
from tests.support.waiting import eventually

JOBMONITOR = str(Path(sys.executable).with_name("jobmonitor"))


async def until_answering(
    http: httpx.AsyncClient,
    url: str,
    process: asyncio.subprocess.Process,
    *,
    within: float,
) -> None:
    """Wait until GET `url` answers 200 (e.g. /healthz, /readyz); fail if the process exits
    first."""

    async def answering() -> bool:
        assert process.returncode is None, f"{url}: the process exited with {process.returncode}"
        try:
            return (await http.get(url)).status_code == 200
        except httpx.TransportError:
            return False

    await eventually(answering, within)


def run_cli(monkeypatch: pytest.MonkeyPatch, *arguments: str) -> int:
    """`jobmonitor ARGUMENTS` run in this process; its exit code."""
    monkeypatch.setattr(sys, "argv", ["jobmonitor", *arguments])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    return int(exited.value.code or 0)
