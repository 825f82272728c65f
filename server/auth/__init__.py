"""Who asks: API tokens, roles, the principal of a request, and the limits per token."""

from .principal import Principal
from .roles import Role

__all__ = ["Principal", "Role"]
