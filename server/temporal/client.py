"""Connecting to Temporal, from the settings; never at import time.

A secured cluster takes TLS (a CA to trust, a client certificate and key for mutual TLS, the
name its certificate carries) and/or an API key; every process connects through `connect`.
"""

import asyncio
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client
from temporalio.service import RetryConfig, RPCError, RPCStatusCode, TLSConfig

from server.domain.errors import OrchestratorUnavailable
from server.services.orchestrator import WorkflowGone
from server.settings import Settings, StartupError

log = logging.getLogger(__name__)
RECONNECT_SECONDS = 1.0
# Fail fast when Temporal is down: callers keep work in the outbox and try again later.
RETRY = RetryConfig(max_retries=2, initial_interval_millis=100, max_interval_millis=500)
CHECK_TIMEOUT = timedelta(seconds=5)
# What the SDK says when nothing answers at the address: worth waiting for. Anything else
# (a certificate refused, no HTTP/2, a key refused) does not get better by retrying.
_UNREACHABLE = ("Connection refused", "dns error", "timed out", "Connection reset", "deadline")
_INNER_ERROR = re.compile(r'(?:error|message): ("[^"]+"|\w+\(\w+\))')
_SECURITY_SETTINGS = (
    "JOBMONITOR_TEMPORAL_TLS_CA, JOBMONITOR_TEMPORAL_TLS_CERT, JOBMONITOR_TEMPORAL_TLS_KEY, "
    "JOBMONITOR_TEMPORAL_TLS_SERVER_NAME and JOBMONITOR_TEMPORAL_API_KEY"
)


class TemporalNotAnswering(Exception):
    """Nothing answers at JOBMONITOR_TEMPORAL_ADDRESS (yet)."""


def tls_config(settings: Settings) -> TLSConfig | None:
    """The TLS to use, from the settings; None leaves the SDK's default (TLS with the system's
    roots when an API key is set, plain otherwise). Unreadable files are a StartupError."""
    files = (settings.temporal_tls_ca, settings.temporal_tls_cert, settings.temporal_tls_key)
    if all(path is None for path in files) and settings.temporal_tls_server_name is None:
        return None
    if (settings.temporal_tls_cert is None) != (settings.temporal_tls_key is None):
        raise StartupError(
            "JOBMONITOR_TEMPORAL_TLS_CERT and JOBMONITOR_TEMPORAL_TLS_KEY go together: "
            "set both for mutual TLS, or neither"
        )
    return TLSConfig(
        server_root_ca_cert=_read(settings.temporal_tls_ca, "JOBMONITOR_TEMPORAL_TLS_CA"),
        client_cert=_read(settings.temporal_tls_cert, "JOBMONITOR_TEMPORAL_TLS_CERT"),
        client_private_key=_read(settings.temporal_tls_key, "JOBMONITOR_TEMPORAL_TLS_KEY"),
        domain=settings.temporal_tls_server_name,
    )


def _read(path: Path | None, setting: str) -> bytes | None:
    if path is None:
        return None
    try:
        content = path.read_bytes()
    except OSError as error:
        raise StartupError(f"{setting}: cannot read {path}: {error.strerror}") from None
    if b"-----BEGIN " not in content:
        raise StartupError(f"{setting}: {path} is not a PEM file")
    return content


_CONNECT_FAILED = "Failed client connect"
_GONE = {RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION}


async def connect(settings: Settings, *, identity: str | None = None, lazy: bool = False) -> Client:
    """A client for the configured Temporal. `lazy` connects on first use (and keeps trying on
    later calls), for callers that must start while Temporal is down."""
    if settings.temporal_address is None:
        raise ValueError("JOBMONITOR_TEMPORAL_ADDRESS is not set")
    api_key = settings.temporal_api_key
    tls = tls_config(settings)
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        api_key=api_key.get_secret_value() if api_key is not None else None,
        tls=tls if tls is not None else api_key is not None,
        identity=identity,
        retry_config=RETRY,
        lazy=lazy,
    )


async def connect_when_up(settings: Settings, *, identity: str) -> Client:
    """Connect, waiting for Temporal to come up (workers start in any order); a Temporal that
    answers but refuses us is a StartupError at once."""
    while True:
        try:
            return await connect_checked(settings, identity=identity)
        except TemporalNotAnswering as error:
            log.warning(
                "Temporal at %s is not answering (%s); retrying", settings.temporal_address, error
            )
            await asyncio.sleep(RECONNECT_SECONDS)


async def connect_checked(settings: Settings, *, identity: str) -> Client:
    """Connect and make one call: TemporalNotAnswering when nothing answers (worth waiting
    for), StartupError when something answers but refuses us (a handshake that fails, a
    certificate or key refused), naming the settings and never the key."""
    try:
        client = await connect(settings, identity=identity)
        await client.workflow_service.get_system_info(GetSystemInfoRequest(), timeout=CHECK_TIMEOUT)
    except (RuntimeError, RPCError) as error:
        detail = str(error)
        if any(sign in detail for sign in _UNREACHABLE):
            raise TemporalNotAnswering(detail) from None
        raise StartupError(
            f"Temporal at {settings.temporal_address} refused the connection "
            f"({describe_failure(error, settings)}); "
            f"check {_SECURITY_SETTINGS}"
        ) from None
    return client


def describe_failure(error: Exception, settings: Settings) -> str:
    """The heart of the SDK's message (its innermost `error: ...`), without the API key should
    it ever quote it."""
    detail = str(error)
    inner = _INNER_ERROR.findall(detail)
    if inner:
        detail = inner[-1].strip('"')
    if settings.temporal_api_key is not None:
        detail = detail.replace(settings.temporal_api_key.get_secret_value(), "***")
    return detail.replace("\n", " ")[:200]


def gone_or_unavailable(error: RPCError) -> Exception:
    if error.status in _GONE:
        return WorkflowGone(error.message)
    return unavailable(error.message)


def not_connected(error: RuntimeError) -> Exception:
    """A lazy client that cannot connect says so with a RuntimeError; anything else is a bug."""
    if str(error).startswith(_CONNECT_FAILED):
        return unavailable(str(error))
    return error


def unavailable(detail: str) -> OrchestratorUnavailable:
    return OrchestratorUnavailable(f"Temporal is unavailable: {detail}")


@contextmanager
def rpc_errors() -> Iterator[None]:
    """Temporal's failures as the services know them: WorkflowGone (no such workflow or
    schedule) or OrchestratorUnavailable."""
    try:
        yield
    except RPCError as error:
        raise gone_or_unavailable(error) from None
    except RuntimeError as error:
        raise not_connected(error) from None
