"""Role checks for mutations, in one place: a field extension that answers FORBIDDEN in the
payload's `errors` (as clients expect of every mutation) without running the resolver."""

from collections.abc import Awaitable, Callable
from typing import Any

from strawberry.extensions import FieldExtension
from strawberry.types.field import StrawberryField

from resolvers.context import Info
from resolvers.types.payloads import UserError
from server.auth import Role
from server.domain.errors import Forbidden


class RequireRole(FieldExtension):
    def __init__(self, role: Role) -> None:
        self.role = role
        self.payload: Callable[..., Any] | None = None

    def apply(self, field: StrawberryField) -> None:
        payload = field.type
        if not isinstance(payload, type) or "errors" not in getattr(payload, "__annotations__", {}):
            raise TypeError(f"{field.name}: RequireRole needs a payload type with `errors`")
        self.payload = payload

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any
    ) -> Any:
        principal = info.context.principal
        if principal.role.grants(self.role):
            return await next_(source, info, **kwargs)
        assert self.payload is not None
        error = Forbidden(
            f"{info.field_name} needs the {self.role} role; this token is a {principal.role}"
        )
        return self.payload(errors=[UserError.from_error(error)])
