"""Domain errors met in an activity become failures Temporal does not retry; the record
Teardown makes, with those rules."""

from collections.abc import Iterator
from contextlib import contextmanager

from temporalio.exceptions import ApplicationError

from server.domain.enums import JobStatus
from server.domain.errors import DomainError
from server.services.execution import ExecutionService

from .contracts import Outcome


@contextmanager
def domain_errors_are_final() -> Iterator[None]:
    try:
        yield
    except DomainError as error:
        raise ApplicationError(error.message, type=error.code.value, non_retryable=True) from None


async def record_end(execution: ExecutionService, outcome: Outcome, *, agent: str | None) -> None:
    """Teardown's record of how the job ended, wherever Teardown runs."""
    with domain_errors_are_final():
        await execution.finish(
            tenant=outcome.tenant,
            number=outcome.job_number,
            status=JobStatus(outcome.status),
            error=outcome.error,
            agent_name=agent,
        )
