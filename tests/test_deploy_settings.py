"""Secrets from files: JOBMONITOR_DATABASE_URL_FILE, JOBMONITOR_EVENT_BUS_URL_FILE and
JOBMONITOR_TEMPORAL_API_KEY_FILE (a mounted secret's final newline dropped)."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from server.settings import Settings


def test_secrets_are_read_from_their_files(tmp_path: Path) -> None:
    files = {name: tmp_path / name for name in ("url", "bus", "key")}
    files["url"].write_text("postgresql+asyncpg://app:s3cret@pgbouncer:6432/jobs\n")
    files["bus"].write_text("postgresql+asyncpg://app:s3cret@postgres:5432/jobs\n")
    files["key"].write_text("tk-123\n")

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url_file=files["url"],
        event_bus_url_file=files["bus"],
        temporal_api_key_file=files["key"],
    )

    assert settings.database_url == "postgresql+asyncpg://app:s3cret@pgbouncer:6432/jobs"
    assert settings.event_bus_url == "postgresql+asyncpg://app:s3cret@postgres:5432/jobs"
    assert settings.temporal_api_key is not None
    assert settings.temporal_api_key.get_secret_value() == "tk-123"
    assert "tk-123" not in repr(settings)


def test_a_setting_and_its_file_together_are_refused(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("tk-123")

    with pytest.raises(ValidationError, match="set JOBMONITOR_TEMPORAL_API_KEY or "):
        Settings(_env_file=None, temporal_api_key="other", temporal_api_key_file=tmp_path / "key")  # type: ignore[call-arg]
