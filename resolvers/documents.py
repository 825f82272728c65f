"""Documents parsed under the size and token limits, kept by a digest of their text.

Every transport parses through here: HTTP (the `LimitedParsing` extension) and websockets
(before deciding whether subscribers may share an execution). A document over a limit is
refused before anything is kept, and what is kept is keyed by a 32-byte digest, so the cache
holds at most `maxsize` trees of at most `max_tokens` tokens each, never the texts.
"""

import hashlib
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from graphql import DocumentNode, GraphQLError, parse
from strawberry.extensions import SchemaExtension

from resolvers.limits import operation_settings
from server.settings import Settings

CACHE_SIZE = 256


@dataclass(frozen=True)
class ParseLimits:
    max_bytes: int
    max_tokens: int

    @classmethod
    def of(cls, settings: Settings) -> "ParseLimits":
        return cls(max_bytes=settings.max_body_bytes, max_tokens=settings.max_query_tokens)


class DocumentCache:
    """The documents that parsed within their limits, least recently used dropped first."""

    def __init__(self, maxsize: int = CACHE_SIZE) -> None:
        self._maxsize = maxsize
        self._documents: OrderedDict[tuple[bytes, int], DocumentNode] = OrderedDict()

    def __len__(self) -> int:
        return len(self._documents)

    def parse(self, query: str, limits: ParseLimits) -> DocumentNode:
        """The document, or a GraphQLError (over the size, over the tokens, bad syntax)."""
        text = query.encode()
        if len(text) > limits.max_bytes:
            raise GraphQLError(
                f"the document is over {limits.max_bytes} bytes",
                extensions={"code": "PAYLOAD_TOO_LARGE"},
            )
        key = (hashlib.sha256(text).digest(), limits.max_tokens)
        document = self._documents.get(key)
        if document is not None:
            self._documents.move_to_end(key)
            return document
        document = parse(query, max_tokens=limits.max_tokens)
        self._documents[key] = document
        if len(self._documents) > self._maxsize:
            self._documents.popitem(last=False)
        return document


@cache
def document_cache() -> DocumentCache:
    """The process's cache (the schema is built once per process too)."""
    return DocumentCache()


class LimitedParsing(SchemaExtension):
    """Parses through the document cache with the limits of the runtime serving the operation.
    In-process callers that pass no `Context` get Strawberry's plain parse."""

    def on_parse(self) -> Iterator[None]:
        settings = operation_settings(self)
        if settings is not None:
            self.execution_context.graphql_document = document_cache().parse(
                self.execution_context.query or "", ParseLimits.of(settings)
            )
        yield
