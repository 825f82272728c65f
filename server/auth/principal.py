"""The principal of a request: the tenant it acts in, its role and the name it acts under."""

from dataclasses import dataclass

from server.domain.roles import Role


@dataclass(frozen=True, slots=True)
class Principal:
    tenant: str
    role: Role
    actor: str | None = None
    """Recorded on the job events this principal causes."""
    token_id: int | None = None
    """The API token behind it; None when auth is disabled or for in-process use."""

    @classmethod
    def trusted(cls, tenant: str, *, actor: str | None = None) -> "Principal":
        """Full rights in one tenant: auth disabled, the CLI, tests."""
        return cls(tenant=tenant, role=Role.ADMIN, actor=actor)

    @classmethod
    def nobody(cls) -> "Principal":
        """For the GraphiQL page, which runs no operation: should anything run after all,
        it is a viewer of a tenant that cannot exist (tenant names are never empty)."""
        return cls(tenant="", role=Role.VIEWER)
