"""Artifacts: the files steps write, kept behind one small store interface."""

from .service import ArtifactLimits, ArtifactService
from .store import ArtifactStore, store_for

__all__ = ["ArtifactLimits", "ArtifactService", "ArtifactStore", "store_for"]
