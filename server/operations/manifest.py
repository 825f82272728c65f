"""Operations to register, read from files: GraphQL documents, or the persisted-operations
manifests that Apollo's and Relay's tools write."""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse, validate

from .store import sha256_of

APOLLO_FORMAT = "apollo-persisted-query-manifest"


class OperationFileError(Exception):
    """A file that holds no operations this server could register; nothing is registered."""


@dataclass(frozen=True)
class OperationEntry:
    id: str
    document: str
    source: Path


def read_operations(paths: Iterable[Path], schema: GraphQLSchema) -> list[OperationEntry]:
    """Every operation of the files, each checked to parse and validate against `schema`.

    - a `.json` file is an Apollo manifest (`{"format": "apollo-persisted-query-manifest",
      "operations": [{"id": sha256 of body, "body": ...}]}`) or a Relay one (`{id: text}`);
    - any other file is one GraphQL document, registered whole under the SHA-256 of its text.
    """
    entries: list[OperationEntry] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise OperationFileError(f"{path}: {error}") from error
        pairs = _manifest(path, text) if path.suffix == ".json" else [(sha256_of(text), text)]
        for operation_id, document in pairs:
            _check(path, operation_id, document, schema)
            entries.append(OperationEntry(operation_id, document, path))
    return entries


def _manifest(path: Path, text: str) -> list[tuple[str, str]]:
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as error:
        raise OperationFileError(f"{path}: not JSON ({error})") from error
    if isinstance(manifest, dict) and manifest.get("format") == APOLLO_FORMAT:
        return _apollo(path, manifest.get("operations"))
    if isinstance(manifest, dict) and all(
        isinstance(key, str) and isinstance(value, str) for key, value in manifest.items()
    ):
        return list(manifest.items())
    raise OperationFileError(
        f"{path}: neither an Apollo persisted-query manifest nor a Relay one ({{id: text}})"
    )


def _apollo(path: Path, operations: object) -> list[tuple[str, str]]:
    if not isinstance(operations, list):
        raise OperationFileError(f"{path}: `operations` is not a list")
    pairs = []
    for position, operation in enumerate(operations):
        if not isinstance(operation, dict):
            raise OperationFileError(f"{path}: operation {position} is not an object")
        operation_id, body = operation.get("id"), operation.get("body")
        if not isinstance(operation_id, str) or not isinstance(body, str):
            raise OperationFileError(f"{path}: operation {position} lacks a string id or body")
        if sha256_of(body) != operation_id:
            raise OperationFileError(
                f"{path}: operation {position} ({operation.get('name')}): "
                "its id is not the SHA-256 of its body"
            )
        pairs.append((operation_id, body))
    return pairs


def _check(path: Path, operation_id: str, document: str, schema: GraphQLSchema) -> None:
    try:
        parsed: DocumentNode = parse(document)
    except GraphQLError as error:
        raise OperationFileError(f"{path}: {operation_id[:12]}: {error.message}") from error
    errors = validate(schema, parsed)
    if errors:
        raise OperationFileError(f"{path}: {operation_id[:12]}: {errors[0].message}")
