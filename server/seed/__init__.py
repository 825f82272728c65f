"""Deterministic demo data: workflows, agents and jobs with their steps, events and logs."""

from .seeder import SeedReport, seed_database

__all__ = ["SeedReport", "seed_database"]
