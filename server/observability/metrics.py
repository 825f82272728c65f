"""The Prometheus instruments that the hot paths feed (a counter or histogram update costs
about a microsecond). What is read at scrape time (jobs by status, queues, the outbox, live
subscribers) is in `server.observability.scrape`.

They live in a registry of jobmonitor's own, served at /metrics (`server.web.metrics`)."""

import re

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "jobmonitor_graphql_requests",
    "GraphQL operations over HTTP, by operation name and outcome (ok, error: the result holds "
    "errors, refused: nothing ran, timeout).",
    ["operation", "outcome"],
    registry=REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "jobmonitor_graphql_request_seconds",
    "Time to answer a GraphQL operation over HTTP (its execution, up to the first part of a "
    "deferred answer), by operation name.",
    ["operation"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
FANOUT_LAG = Histogram(
    "jobmonitor_live_fanout_lag_seconds",
    "From a status change's commit (the time stamped in its transaction) to the live hub "
    "handing it to the subscriptions that watch it.",
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
BUS_RECONNECTS = Counter(
    "jobmonitor_event_bus_reconnects",
    "Times the PostgreSQL event bus lost its LISTEN connection and reconnected.",
    registry=REGISTRY,
)
TEMPORAL_CALL_SECONDS = Histogram(
    "jobmonitor_temporal_call_seconds",
    "Temporal lookups of job timelines (list: visibility, history, describe, result), by call "
    "and outcome (ok, unreachable, gone).",
    ["call", "outcome"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
TEMPORAL_CACHE = Counter(
    "jobmonitor_temporal_cache_lookups",
    "Lookups in the caches of what Temporal said (runs: run summaries, timelines: built "
    "phases), by result (hit, miss); the hit rate is hit / (hit + miss).",
    ["cache", "result"],
    registry=REGISTRY,
)
TEMPORAL_HELD_BACK = Counter(
    "jobmonitor_temporal_held_back",
    "Temporal calls not made at once: budget = a visibility call that waited for the rate "
    "budget; quiet = a lookup answered 'Temporal unreachable' without calling, just after a "
    "failure.",
    ["reason"],
    registry=REGISTRY,
)

MAX_OPERATION_NAMES = 200
"""Distinct operation names given a series of their own; later ones count as `other`."""
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")
_seen_names: set[str] = set()


def operation_label(name: str | None) -> str:
    """A bounded label for a client-chosen operation name (clients could send any)."""
    if not name:
        return "anonymous"
    if name in _seen_names:
        return name
    if _NAME.fullmatch(name) is None or len(_seen_names) >= MAX_OPERATION_NAMES:
        return "other"
    _seen_names.add(name)
    return name
