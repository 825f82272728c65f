"""Counting a Temporal client's WorkflowService calls at its service call layer (the one method
every call goes through), passing each on unchanged. Used by the tests and the bench."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from temporalio.client import Client

LIST = "list_workflow_executions"
HISTORY = "get_workflow_execution_history"
DESCRIBE = "describe_workflow_execution"


@dataclass
class RpcLog:
    """The calls made, by RPC name, in order."""

    calls: list[str] = field(default_factory=list)

    def count(self, rpc: str | None = None) -> int:
        return len(self.calls) if rpc is None else self.calls.count(rpc)

    def clear(self) -> None:
        self.calls.clear()


@contextmanager
def recording_rpcs(client: Client) -> Iterator[RpcLog]:
    service = client.service_client
    forward = service._rpc_call
    log = RpcLog()

    async def counting(rpc: str, *args: Any, **kwargs: Any) -> Any:
        log.calls.append(rpc)
        return await forward(rpc, *args, **kwargs)

    service._rpc_call = counting  # type: ignore[method-assign]
    try:
        yield log
    finally:
        del service._rpc_call  # the class's method shows through again
