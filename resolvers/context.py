"""The typed request context: who asks, and the loaders of this one request."""

from dataclasses import dataclass

import strawberry
from strawberry.fastapi import BaseContext

from dataloaders import Loaders
from server.runtime import Runtime


@dataclass
class Context(BaseContext):
    runtime: Runtime
    tenant: str
    actor: str | None
    loaders: Loaders

    def __post_init__(self) -> None:
        super().__init__()

    @classmethod
    def for_tenant(cls, runtime: Runtime, tenant: str, *, actor: str | None = None) -> "Context":
        return cls(
            runtime=runtime,
            tenant=tenant,
            actor=actor,
            loaders=Loaders.for_request(runtime.session_factory, tenant=tenant),
        )


Info = strawberry.Info[Context, None]
