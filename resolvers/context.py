"""The typed request context: who asks, and the loaders of this one request."""

from dataclasses import dataclass

import strawberry
from strawberry.fastapi import BaseContext

from dataloaders import Loaders
from server.auth import Principal
from server.runtime import Runtime


@dataclass
class Context(BaseContext):
    runtime: Runtime
    principal: Principal
    loaders: Loaders
    request_id: str = ""
    """Names the request in the logs and in masked error messages."""

    def __post_init__(self) -> None:
        super().__init__()

    @property
    def tenant(self) -> str:
        return self.principal.tenant

    @property
    def actor(self) -> str | None:
        return self.principal.actor

    @classmethod
    def for_principal(
        cls, runtime: Runtime, principal: Principal, *, request_id: str = ""
    ) -> "Context":
        return cls(
            runtime=runtime,
            principal=principal,
            loaders=Loaders.for_request(
                runtime.read_session_factory, tenant=principal.tenant, timeline=runtime.timeline
            ),
            request_id=request_id,
        )

    @classmethod
    def for_tenant(cls, runtime: Runtime, tenant: str, *, actor: str | None = None) -> "Context":
        """In-process use with full rights in one tenant (tests, tools)."""
        return cls.for_principal(runtime, Principal.trusted(tenant, actor=actor))

    def renew_loaders(self) -> None:
        """A subscription lives across many events: each event reads the rows afresh."""
        self.loaders = Loaders.for_request(
            self.runtime.read_session_factory, tenant=self.tenant, timeline=self.runtime.timeline
        )


Info = strawberry.Info[Context, None]
