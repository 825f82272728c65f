"""Domain errors met in an activity become failures Temporal does not retry."""

from collections.abc import Iterator
from contextlib import contextmanager

from temporalio.exceptions import ApplicationError

from server.domain.errors import DomainError


@contextmanager
def domain_errors_are_final() -> Iterator[None]:
    try:
        yield
    except DomainError as error:
        raise ApplicationError(error.message, type=error.code.value, non_retryable=True) from None
