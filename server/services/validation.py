"""Input validation against a workflow's JSON Schema, reported with the failing path."""

from typing import Any

from jsonschema import Draft202012Validator

from server.domain.errors import InvalidArgument


def validate_input(job_input: Any, schema: dict[str, Any] | None) -> None:
    if not isinstance(job_input, dict):
        raise InvalidArgument("input must be a JSON object", field="input")
    if schema is None:
        return
    errors = sorted(Draft202012Validator(schema).iter_errors(job_input), key=lambda e: e.path)
    if errors:
        first = errors[0]
        path = "/".join(str(part) for part in first.absolute_path)
        where = f"input/{path}" if path else "input"
        raise InvalidArgument(f"{where}: {first.message}", field=where)
