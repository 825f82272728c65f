"""A job's timeline as Temporal recorded it: pure functions over visibility records, histories
and describe results, with no client and no I/O."""
