"""`jobmonitor tokens create/revoke` and `serve` refusing to expose an open API."""

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from server import cli
from server.auth.tokens import well_formed
from server.settings import AuthMode, Settings
from server.web.serving import GracefulServer

runner = CliRunner()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBMONITOR_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")


@pytest.mark.usefixtures("database")
def test_tokens_create_prints_the_token_alone_on_its_last_line_and_revoke_ends_it() -> None:
    created = runner.invoke(cli.app, ["tokens", "create", "--tenant", "acme", "--role", "admin"])
    revoked = runner.invoke(cli.app, ["tokens", "revoke", "1"])
    again = runner.invoke(cli.app, ["tokens", "revoke", "1"])

    assert created.exit_code == 0, created.output
    assert well_formed(created.output.splitlines()[-1])
    assert "'acme'" in created.output
    assert revoked.exit_code == 0
    assert again.exit_code == 1
    assert "no live token" in again.output


@pytest.mark.usefixtures("database")
@pytest.mark.parametrize(
    ("arguments", "message"),
    [(["--role", "boss"], "boss"), (["--role", "viewer", "--tenant", "a b"], "tenant")],
)
def test_tokens_create_refuses_bad_roles_and_tenants(arguments: list[str], message: str) -> None:
    result = runner.invoke(cli.app, ["tokens", "create", *arguments])

    assert result.exit_code == 2
    assert message in result.output


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch, database: None) -> list[dict[str, Any]]:
    """The configurations uvicorn was started with, recorded instead of served (on a database
    `serve` may migrate)."""
    monkeypatch.setenv("JOBMONITOR_AUTO_MIGRATE", "true")
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(
        GracefulServer, "run", lambda server, _sockets=None: calls.append(vars(server.config))
    )
    return calls


@pytest.mark.parametrize(
    ("auth", "host", "extra", "serves"),
    [
        ("disabled", "0.0.0.0", [], False),
        ("disabled", "192.168.1.10", [], False),
        ("disabled", "0.0.0.0", ["--allow-unauthenticated"], True),
        ("disabled", "127.0.0.1", [], True),
        ("disabled", "::1", [], True),
        ("disabled", "localhost", [], True),
        ("enabled", "0.0.0.0", [], True),
    ],
)
def test_serve_refuses_to_listen_unauthenticated_beyond_loopback(
    monkeypatch: pytest.MonkeyPatch,
    served: list[dict[str, Any]],
    auth: str,
    host: str,
    extra: list[str],
    serves: bool,
) -> None:
    monkeypatch.setenv("JOBMONITOR_AUTH", auth)

    result = runner.invoke(cli.app, ["serve", "--host", host, *extra])

    assert (result.exit_code == 0) is serves, result.output
    assert [call["host"] for call in served] == ([host] if serves else [])
    assert all(call["ws_max_size"] == 1 << 20 for call in served)
    assert all(call["proxy_headers"] is False for call in served)
    assert all(call["ws"] == "websockets-sansio" for call in served)
    if not serves:
        assert "refusing to serve without authentication" in result.output


def test_auth_is_on_unless_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOBMONITOR_AUTH", raising=False)

    assert Settings(_env_file=None).auth is AuthMode.ENABLED  # type: ignore[call-arg]
