"""Who asks: API tokens, roles, the principal of a request, and the limits per token."""

from server.domain.roles import Role

from .principal import Principal

__all__ = ["Principal", "Role"]
