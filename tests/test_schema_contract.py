"""The committed schema.graphql is what the code serves, and it keeps every promise of the API
contract (`../shared/api-contract.graphql`): the checks CI runs, inside the suite."""

import subprocess
import sys

from resolvers.schema import export_sdl
from tests.support.contract import CONTRACT_CHECK, SCHEMA
from tests.support.environment import missing


def test_schema_graphql_is_what_the_code_exports() -> None:
    assert SCHEMA.read_text() == export_sdl(), (
        "schema.graphql is stale: run `jobmonitor export-schema > schema.graphql`"
    )


def test_the_schema_keeps_every_promise_of_the_api_contract() -> None:
    if not CONTRACT_CHECK.exists():
        missing(f"the API contract's checker is not at {CONTRACT_CHECK}")

    checked = subprocess.run(
        [sys.executable, str(CONTRACT_CHECK), str(SCHEMA)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr
