"""PostGraphile 4, the peer: installed with npm into a scratch folder outside the repository
(a benchmark tool, not a dependency of the package) and served in a Node process of its own."""

import contextlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from server.net import free_port

from .common import DATA_DIR, stop_process

VERSION = "4.14.1"
PACKAGES = {
    "postgraphile": VERSION,
    # Conditions beyond equality (the ticket search: `includesInsensitive`).
    "postgraphile-plugin-connection-filter": "2.3.0",
    # The load client (bench/node/peer_load.mjs).
    "autocannon": "8.0.0",
}
SCRATCH = Path(os.environ.get("XDG_CACHE_HOME", DATA_DIR)) / f"postgraphile-{VERSION}"


def install(folder: Path = SCRATCH) -> Path | None:
    """The folder holding PostGraphile, the filter plugin and autocannon (installed on first
    use); None when npm is missing."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        return None
    manifest = {"name": "jobmonitor-bench-peer", "private": True, "dependencies": PACKAGES}
    wanted = json.dumps(manifest, indent=2)
    package_json = folder / "package.json"
    installed = folder / "node_modules" / ".bin" / "postgraphile"
    if installed.exists() and package_json.exists() and package_json.read_text() == wanted:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    package_json.write_text(wanted)
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=folder, check=True
    )
    return folder


@contextlib.contextmanager
def served(folder: Path, *, database_url: str, schema: str) -> Iterator[str]:
    """PostGraphile over `schema` on a free port of 127.0.0.1, one Node process, in
    production mode without the query log; yields its /graphql URL."""
    port = free_port()
    command = [
        str(folder / "node_modules" / ".bin" / "postgraphile"),
        "--connection",
        database_url,
        "--schema",
        schema,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--disable-query-log",
        "--disable-graphiql",
        "--append-plugins",
        "postgraphile-plugin-connection-filter",
    ]
    process = subprocess.Popen(
        command,
        env={**os.environ, "NODE_ENV": "production"},
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        _wait_ready(url, process)
        yield url
    finally:
        stop_process(process)


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"PostGraphile exited with status {process.returncode}")
        with contextlib.suppress(httpx.TransportError):
            response = httpx.post(url, json={"query": "{ __typename }"}, timeout=2.0)
            if response.status_code == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"PostGraphile did not answer within {timeout:.0f} s")
