"""What metrics, traces and JSON logs cost on the 50-job first page, all switched on (goal:
under 10 %), and /metrics scraped around the load to show its numbers moving.

Four bench servers (bench/http_server.py, one process each: tracing is set up once per
process) on the same database, all logging every request: the baseline as shipped (no
/metrics, no tracing, text logs); one with JOBMONITOR_METRICS_TOKEN and
JOBMONITOR_LOG_FORMAT=json; one with OTEL_EXPORTER_OTLP_ENDPOINT too (every trace exported to
an OTLP/HTTP sink in this process that counts what it receives); and the same sampling one
trace in ten (OTEL_TRACES_SAMPLER=parentbased_traceidratio, OTEL_TRACES_SAMPLER_ARG=0.1). One
keep-alive connection to each; requests take turns.

    .venv/bin/python -m bench.observability_overhead --backends sqlite --jobs 20000 --detailed 20000
"""

import multiprocessing
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.sharedctypes import Synchronized

import httpx
import uvloop
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from prometheus_client.parser import text_string_to_metric_families

from server.app import create_app
from server.observability import tracing
from server.runtime import Runtime

from .common import (
    PAGE_QUERY,
    Budget,
    bench_parser,
    bench_settings,
    budget_of,
    checked_json,
    interleave_async,
    on_each_database,
    over_asgi,
    report,
    say,
    served,
)

BASELINE = "as shipped (baseline)"
UNTRACED = "metrics + JSON logs"
OBSERVED = "metrics + traces + JSON logs"
SAMPLED = "same, 1 trace in 10 sampled"
TOKEN = "bench-metrics"
OPERATION = "BenchPage"
MOVING = (
    ("jobmonitor_graphql_requests_total", {"operation": OPERATION, "outcome": "ok"}),
    ("jobmonitor_graphql_request_seconds_count", {"operation": OPERATION}),
    ("jobmonitor_graphql_request_seconds_sum", {"operation": OPERATION}),
)


class _Sink(BaseHTTPRequestHandler):
    received: "Synchronized[int]"
    """Bytes of spans received (OTLP protobuf), shared with the bench process."""

    def do_POST(self) -> None:
        size = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(size)
        with _Sink.received.get_lock():
            _Sink.received.value += len(body)
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


def _serve_sink(port: "Synchronized[int]", received: "Synchronized[int]") -> None:
    _Sink.received = received
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    port.value = server.server_address[1]
    server.serve_forever()


@dataclass(frozen=True)
class Sink:
    url: str
    _received: "Synchronized[int]"

    @property
    def received(self) -> int:
        return self._received.value


@contextmanager
def otlp_sink() -> Iterator[Sink]:
    """An OTLP/HTTP endpoint that counts what it receives, in a process of its own: the CPU
    it spends on receiving stays out of the measured processes."""
    port, received = multiprocessing.Value("i", 0), multiprocessing.Value("q", 0)
    process = multiprocessing.Process(target=_serve_sink, args=(port, received), daemon=True)
    process.start()
    try:
        while port.value == 0:
            if not process.is_alive():
                raise RuntimeError("the OTLP sink did not start")
            time.sleep(0.01)
        yield Sink(f"http://127.0.0.1:{port.value}", received)
    finally:
        process.terminate()
        process.join()


async def scrape(client: httpx.AsyncClient) -> dict[str, float]:
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    response.raise_for_status()
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            for name, labels in MOVING:
                if sample.name == name and all(
                    sample.labels.get(k) == v for k, v in labels.items()
                ):
                    found[name] = sample.value
    return found


async def compare(urls: dict[str, str], sink: Sink, budget: Budget) -> None:
    body = {"query": PAGE_QUERY.replace("{", f"query {OPERATION} {{", 1)}
    async with (
        httpx.AsyncClient(base_url=urls[BASELINE]) as baseline,
        httpx.AsyncClient(base_url=urls[UNTRACED]) as untraced,
        httpx.AsyncClient(base_url=urls[OBSERVED]) as observed,
        httpx.AsyncClient(base_url=urls[SAMPLED]) as sampled,
    ):
        clients = {BASELINE: baseline, UNTRACED: untraced, OBSERVED: observed, SAMPLED: sampled}

        def call(name: str) -> Callable[[], Awaitable[httpx.Response]]:
            return lambda: clients[name].post("/graphql", json=body)

        for name in clients:
            checked_json(await call(name)())
        before, spans_before = await scrape(observed), sink.received
        timings = await interleave_async({name: call(name) for name in clients}, budget)
        after = await scrape(observed)
    summaries = report("HTTP to uvicorn on 127.0.0.1, the 50-job page", timings, baseline=BASELINE)
    for name in (UNTRACED, OBSERVED, SAMPLED):
        overhead = (summaries[name].median / summaries[BASELINE].median - 1) * 100
        say(f"  {name}: {overhead:+.1f} % against the baseline's median (goal: under 10 %)")
    say("\n/metrics of the observed server, before and after the run:")
    for name, _labels in MOVING:
        say(f"  {name}: {before.get(name, 0):.3f} -> {after.get(name, 0):.3f}")
    say(f"  OTLP bytes received by the sink during the run: {sink.received - spans_before}")


async def in_process(database_url: str, sink: Sink, budget: Budget) -> None:
    """The strict figure: one app over ASGI (no network), tracing switched between requests:
    off, every trace exported to the sink, one in ten. (It sets the tracing module's provider
    directly, which only a benchmark may do: a process otherwise sets it up once.)"""
    runtime = Runtime.from_settings(bench_settings(database_url))
    providers: dict[str, TracerProvider | None] = {"tracing off (baseline)": None}
    for name, sampler in (("every trace exported", None), ("1 trace in 10", 0.1)):
        provider = TracerProvider(
            sampler=ParentBased(TraceIdRatioBased(sampler)) if sampler else None
        )
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(f"{sink.url}/v1/traces")))
        providers[name] = provider
    try:
        async with over_asgi(create_app(runtime=runtime)) as client:
            tracing._trace_sql(runtime.engine.sync_engine)

            def call(provider: TracerProvider | None) -> Callable[[], Awaitable[httpx.Response]]:
                def traced() -> Awaitable[httpx.Response]:
                    tracing._provider = provider
                    tracing._tracer = (
                        provider.get_tracer("jobmonitor") if provider else trace.NoOpTracer()
                    )
                    return client.post("/graphql", json={"query": PAGE_QUERY})

                return traced

            timings = await interleave_async(
                {name: call(provider) for name, provider in providers.items()}, budget
            )
        report("in-process (ASGI), the 50-job page", timings, baseline="tracing off (baseline)")
    finally:
        for made in providers.values():
            if made is not None:
                made.shutdown()
        await runtime.close()


def main() -> None:
    parser = bench_parser(__doc__, jobs=100_000, runs=300, warmup=30, seconds=120.0)
    arguments = parser.parse_args()
    budget = budget_of(arguments)

    def run(_backend: str, database_url: str) -> None:
        with ExitStack() as stack:
            sink = stack.enter_context(otlp_sink())
            untraced = {"JOBMONITOR_METRICS_TOKEN": TOKEN, "JOBMONITOR_LOG_FORMAT": "json"}
            observed = {**untraced, "OTEL_EXPORTER_OTLP_ENDPOINT": sink.url}
            sampled = {
                **observed,
                "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
                "OTEL_TRACES_SAMPLER_ARG": "0.1",
            }
            urls = {
                name: stack.enter_context(
                    served(database_url, access_log=True, environment=environment)
                )
                for name, environment in (
                    (BASELINE, None),
                    (UNTRACED, untraced),
                    (OBSERVED, observed),
                    (SAMPLED, sampled),
                )
            }
            uvloop.run(compare(urls, sink, budget))
            uvloop.run(in_process(database_url, sink, budget))

    on_each_database(arguments, "observability on the 50-job page", run)


if __name__ == "__main__":
    main()
