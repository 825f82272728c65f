"""Identical queries in flight at once share one execution, and none takes the answer of an
execution that started before it arrived (server/web/shared_reads.py)."""

import asyncio
import itertools

import httpx
import pytest

from server.auth import Role
from server.runtime import Runtime
from server.settings import Settings
from server.web.shared_reads import SharedReads, share_key
from tests.support.factories import build_world

PAGE = "{ jobs(first: 20) { totalCount edges { node { number name status } } } }"


class Gated:
    """An execution that answers the number of executions started before it, once let go."""

    def __init__(self) -> None:
        self.started = itertools.count(1)
        self.gate = asyncio.Event()

    async def execute(self) -> int:
        number = next(self.started)
        await self.gate.wait()
        return number


async def test_arrivals_during_an_execution_share_the_next_one_not_the_running_one() -> None:
    # given one execution running
    shared: SharedReads[int] = SharedReads()
    gated = Gated()
    first = asyncio.create_task(shared.run("page", gated.execute, shared=lambda _: True))
    await asyncio.sleep(0)

    # when three identical requests arrive while it runs, and it ends
    later = [
        asyncio.create_task(shared.run("page", gated.execute, shared=lambda _: True))
        for _ in range(3)
    ]
    await asyncio.sleep(0)
    gated.gate.set()

    # then the first gets the running execution's answer, the three share the next one,
    # started after they arrived, and nothing is left behind
    assert await first == 1
    assert await asyncio.gather(*later) == [2, 2, 2]
    assert next(gated.started) == 3
    assert len(shared) == 0


async def test_an_answer_that_may_not_be_shared_is_executed_again_by_each_other_caller() -> None:
    # given an execution whose answer may not be shared (it holds errors)
    shared: SharedReads[int] = SharedReads()
    gated = Gated()
    gated.gate.set()
    running = asyncio.create_task(shared.run("page", gated.execute, shared=lambda _: False))
    await asyncio.sleep(0)

    # when two identical requests join the following execution
    joined = [
        asyncio.create_task(shared.run("page", gated.execute, shared=lambda _: False))
        for _ in range(2)
    ]

    # then the one that made it keeps its answer and the other runs its own
    assert await running == 1
    assert sorted(await asyncio.gather(*joined)) == [2, 3]


def _viewer_key(
    query: str, *, extensions: dict[str, object] | None = None, share: bool = True
) -> object:
    """The key of a viewer's POST without variables."""
    return share_key(
        scope=("t", Role.VIEWER),
        method="POST",
        query=query,
        operation_name=None,
        variables=None,
        extensions=extensions,
        settings=Settings(_env_file=None, share_identical_reads=share),  # type: ignore[call-arg]
    )


def test_sharing_is_off_when_the_settings_say_so() -> None:
    assert _viewer_key(PAGE) is not None
    assert _viewer_key(PAGE, share=False) is None


@pytest.mark.parametrize(
    ("query", "extensions"),
    [
        ("mutation { cancelJob(id: 1) { errors { code } } }", None),
        ("{ jobs { edges { node { number ... @defer { name } } } } }", None),
        (PAGE, {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}),
        ("{ jobs(", None),
    ],
    ids=["mutation", "defer", "persisted", "syntax-error"],
)
def test_mutations_deferred_persisted_and_broken_requests_run_by_themselves(
    query: str, extensions: dict[str, object] | None
) -> None:
    assert _viewer_key(query, extensions=extensions) is None


def test_requests_share_only_with_the_same_tenant_role_method_document_and_variables() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    def key(tenant: str, role: Role, method: str, variables: dict[str, object]) -> object:
        return share_key(
            scope=(tenant, role),
            method=method,
            query="query($n: Int!) { job(number: $n) { name } }",
            operation_name=None,
            variables=variables,
            extensions=None,
            settings=settings,
        )

    same = key("t", Role.VIEWER, "POST", {"n": 1})
    assert same is not None
    assert same == key("t", Role.VIEWER, "POST", {"n": 1})
    others = [
        key("u", Role.VIEWER, "POST", {"n": 1}),
        key("t", Role.ADMIN, "POST", {"n": 1}),
        key("t", Role.VIEWER, "GET", {"n": 1}),
        key("t", Role.VIEWER, "POST", {"n": 2}),
    ]
    assert all(other != same for other in others)


async def test_identical_pages_asked_at_once_answer_alike_from_fewer_executions(
    runtime: Runtime, tenant: str, client: httpx.AsyncClient, sql_statements: list[str]
) -> None:
    # given jobs, and the page asked alone
    await build_world(runtime.session_factory, tenant, [{} for _ in range(5)])
    alone = (await client.post("/graphql", json={"query": PAGE})).content
    statements_alone = len(sql_statements)

    # when eight clients ask the same page at once
    sql_statements.clear()
    answers = await asyncio.gather(
        *(client.post("/graphql", json={"query": PAGE}) for _ in range(8))
    )

    # then each gets the same document as the lone request, from fewer executions
    assert all(answer.content == alone for answer in answers)
    assert len(sql_statements) < 8 * statements_alone
