"""`jobmonitor agent` in its own process, on the test's database, Temporal and task queue."""

import asyncio
import os
import signal
from pathlib import Path

from server.runtime import Runtime

from .processes import JOBMONITOR


class AgentProcess:
    def __init__(
        self,
        runtime: Runtime,
        *,
        tenant: str,
        name: str,
        slots: int = 1,
        workflows: tuple[str, ...] = (),
    ) -> None:
        settings = runtime.settings
        self._env = {
            **os.environ,
            "JOBMONITOR_DATABASE_URL": settings.database_url,
            "JOBMONITOR_TEMPORAL_ADDRESS": str(settings.temporal_address),
            "JOBMONITOR_TEMPORAL_TASK_QUEUE": settings.temporal_task_queue,
            "JOBMONITOR_WORKSPACE_ROOT": str(settings.workspace_root),
            # Where the API reads the artifacts the agent keeps, and how it keeps them.
            "JOBMONITOR_ARTIFACTS_STORE": settings.artifacts_store.value,
            "JOBMONITOR_ARTIFACTS_DIR": str(settings.artifacts_dir),
            "JOBMONITOR_ARTIFACT_MAX_BYTES": str(settings.artifact_max_bytes),
            "JOBMONITOR_ARTIFACT_JOB_MAX_BYTES": str(settings.artifact_job_max_bytes),
            "JOBMONITOR_ARTIFACT_SCAN_SECONDS": str(settings.artifact_scan_seconds),
        }
        self._arguments = ["agent", "--name", name, "--tenant", tenant, "--slots", str(slots)]
        for workflow in workflows:
            self._arguments += ["--workflow", workflow]
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            JOBMONITOR,
            *self._arguments,
            env=self._env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )

    def peak_memory_kib(self) -> int:
        """The process's high-water mark of resident memory (VmHWM), in KiB."""
        assert self._process is not None
        status = Path(f"/proc/{self._process.pid}/status").read_text(encoding="utf-8")
        line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
        return int(line.split()[1])

    async def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.send_signal(sig)
            await self._process.wait()
