"""Roles, each granting everything the one below it may do."""

from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    """Reads everything in its tenant."""
    OPERATOR = "operator"
    """Also dispatches, cancels, resends, approves, rejects, pauses and resumes jobs."""
    ADMIN = "admin"
    """Also manages workflows and tokens."""

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def grants(self, required: "Role") -> bool:
        return self.rank >= required.rank


_RANKS = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}
