"""A job's timeline as Temporal recorded it, and the reconciliation of job statuses with it.

Pure functions over visibility records, histories and describe results (runs, activities,
phases, plan, mismatch), and the process-wide side that reads them from Temporal: the
gateway (the only calls), the summary and history sources with their caches and the
visibility rate budget (sources, summaries, histories, cache, budget). Per-request loaders
over the sources are in `dataloaders.timeline`.
"""
