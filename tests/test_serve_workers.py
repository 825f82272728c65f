"""`jobmonitor serve --workers N`: N processes of the API on one port over PostgreSQL, and a
clear refusal on SQLite, whose event bus cannot reach other processes."""

import asyncio
import os
import signal
from pathlib import Path

import httpx
import pytest

from server.net import free_port
from tests.support.processes import JOBMONITOR, run_cli, until_answering

COUNT = "{ jobs(first: 1) { totalCount } }"
STOP_SECONDS = 60.0


def _spawned_children(pid: int) -> list[int]:
    """The worker processes `pid` spawned (multiprocessing's resource tracker left out)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            command = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"spawn_main" in command and b"resource_tracker" not in command:
                found.append(int(child))
    return found


def _running(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


@pytest.mark.parametrize("how", ["option", "environment"])
def test_more_than_one_worker_on_sqlite_is_refused_with_the_reason(
    how: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    # given a SQLite database
    monkeypatch.setenv("JOBMONITOR_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'j.db'}")
    arguments = ["serve", "--workers", "2"]
    if how == "environment":
        monkeypatch.setenv("JOBMONITOR_WORKERS", "2")
        arguments = ["serve"]

    # when serve is asked for two workers
    code = run_cli(monkeypatch, *arguments)

    # then it refuses to start, naming the reason and the way out
    error = capsys.readouterr().err
    assert code == 2
    assert "2 workers need PostgreSQL" in error
    assert "JOBMONITOR_WORKERS=1" in error
    assert not (tmp_path / "j.db").exists()


@pytest.mark.postgres
@pytest.mark.usefixtures("on_postgresql")
async def test_two_workers_on_postgresql_serve_one_port_and_stop_together(
    database_url: str,
) -> None:
    # given serve with JOBMONITOR_WORKERS=2 on PostgreSQL
    port = free_port()
    kept = {key: value for key, value in os.environ.items() if not key.startswith("JOBMONITOR_")}
    process = await asyncio.create_subprocess_exec(
        JOBMONITOR,
        "serve",
        "--port",
        str(port),
        env={
            **kept,
            "JOBMONITOR_DATABASE_URL": database_url,
            "JOBMONITOR_AUTH": "disabled",
            "JOBMONITOR_WORKERS": "2",
            "JOBMONITOR_AUTO_MIGRATE": "true",
            "JOBMONITOR_SHUTDOWN_GRACE_SECONDS": "2",
        },
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            await until_answering(http, "/healthz", process, within=180)
            workers = _spawned_children(process.pid)

            # when clients query it over connections of their own
            answers = []
            for _ in range(8):
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as fresh:
                    answers.append((await fresh.post("/graphql", json={"query": COUNT})).json())
    finally:
        # and it is stopped
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), STOP_SECONDS)

    # then two processes served the port, every answer was whole, and all of them stopped
    assert len(workers) == 2
    assert all(answer == {"data": {"jobs": {"totalCount": 0}}} for answer in answers)
    assert code == 0
    assert not any(_running(worker) for worker in workers)
