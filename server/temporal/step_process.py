"""Running one step's shell command: its environment, its output lines, and killing it."""

import asyncio
import json
import os
import signal
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from server.domain.enums import LogStream

from .contracts import JobContext
from .dispatch_context import dispatch_context_variables

KILL_GRACE_SECONDS = 2.0
CHUNK_BYTES = 1 << 16
MAX_LINE_BYTES = 4_000
PASSED_ALWAYS = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "TERM",
)
PASS_VARIABLE = "JOBMONITOR_STEP_ENV_PASS"
"""Comma-separated names of more variables the agent passes on to its steps."""
LineHandler = Callable[[LogStream, str], None]


def step_environment(
    *,
    job_number: int,
    job_input: Mapping[str, Any],
    context: JobContext,
    workspace: Path,
    output_file: Path,
    artifacts: Path,
) -> dict[str, str]:
    """JOB_NUMBER, JOB_INPUT (JSON), JOB_INPUT_<KEY> per top-level key, JOB_WORKSPACE,
    JOB_OUTPUT (where the step may write JSON that becomes its output), JOB_ARTIFACTS (a folder
    of this attempt whose files become the job's artifacts), and the dispatch context
    (`dispatch_context_variables`)."""
    env = inherited_environment(os.environ)
    env["JOB_NUMBER"] = str(job_number)
    env["JOB_INPUT"] = json.dumps(job_input)
    for key, value in job_input.items():
        env[f"JOB_INPUT_{key.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    env["JOB_WORKSPACE"] = str(workspace)
    env["JOB_OUTPUT"] = str(output_file)
    env["JOB_ARTIFACTS"] = str(artifacts)
    env.update(dispatch_context_variables(context, job_input))
    return env


def inherited_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """What a step inherits from its agent: PASSED_ALWAYS and the names listed in
    JOBMONITOR_STEP_ENV_PASS, never a JOBMONITOR_ variable (the database URL, tokens): a
    step's output is readable by every viewer of its tenant."""
    listed = (name.strip() for name in environ.get(PASS_VARIABLE, "").split(","))
    extra = [name for name in listed if name and not name.startswith("JOBMONITOR_")]
    return {name: environ[name] for name in (*PASSED_ALWAYS, *extra) if name in environ}


async def run_command(
    command: str, *, cwd: Path, env: Mapping[str, str], on_line: LineHandler
) -> int:
    """Run `command` in a shell, passing each output line on; returns the exit code.

    The command gets its own process group: cancelling this coroutine kills the whole group,
    so nothing the step started outlives it.
    """
    process = await asyncio.create_subprocess_shell(
        command,
        cwd=cwd,
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    readers = asyncio.gather(
        _pump(process.stdout, LogStream.STDOUT, on_line),
        _pump(process.stderr, LogStream.STDERR, on_line),
    )
    try:
        await readers
        return await process.wait()
    except asyncio.CancelledError:
        readers.cancel()
        await _kill_group(process)
        raise


def read_output(output_file: Path) -> Any:
    """The JSON the step wrote to JOB_OUTPUT, or None if it wrote nothing."""
    if not output_file.exists() or output_file.stat().st_size == 0:
        return None
    try:
        return json.loads(output_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"JOB_OUTPUT is not valid JSON: {error}") from None


async def _pump(stream: asyncio.StreamReader, kind: LogStream, on_line: LineHandler) -> None:
    """Pass each line on as it comes, in chunks: a line longer than MAX_LINE_BYTES is cut
    (and says so), so a command printing without newlines cannot fill the agent's memory."""
    line = bytearray()
    cut = False
    while chunk := await stream.read(CHUNK_BYTES):
        *ended, rest = chunk.split(b"\n")
        for part in ended:
            line, cut = _extend(line, cut, part)
            on_line(kind, _decode(line, cut))
            line, cut = bytearray(), False
        line, cut = _extend(line, cut, rest)
    if line or cut:
        on_line(kind, _decode(line, cut))


def _extend(line: bytearray, cut: bool, part: bytes) -> tuple[bytearray, bool]:
    room = MAX_LINE_BYTES - len(line)
    line += part[:room]
    return line, cut or len(part) > room


def _decode(line: bytearray, cut: bool) -> str:
    text = line.decode("utf-8", errors="replace").rstrip("\r")
    return f"{text} [line cut at {MAX_LINE_BYTES} bytes]" if cut else text


async def _kill_group(process: asyncio.subprocess.Process) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            await asyncio.wait_for(asyncio.shield(process.wait()), KILL_GRACE_SECONDS)
            return
        except TimeoutError:
            continue
