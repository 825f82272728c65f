"""Where the API contract lives: `../shared` beside the checkout, as CI finds it."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
CONTRACT = SHARED / "api-contract.graphql"
CONTRACT_CHECK = SHARED / "tools" / "contract_check.py"
SCHEMA = REPO / "schema.graphql"
