"""Persisted operations: documents known by an id, registered or remembered from clients."""

from .store import OperationStore, sha256_of

__all__ = ["OperationStore", "sha256_of"]
