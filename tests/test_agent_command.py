"""`jobmonitor agent` refuses what it cannot honour before it starts anything."""

import pytest
from typer.testing import CliRunner

from server.cli import app


@pytest.mark.parametrize("slots", ["0", "-1"])
def test_an_agent_without_a_slot_is_refused_at_start(slots: str) -> None:
    result = CliRunner().invoke(app, ["agent", "--name", "none", "--slots", slots])

    assert result.exit_code == 2
    assert "--slots" in result.output
