"""Job mutations over GraphQL: dispatch, and the actions that take a job's global id."""

from typing import Any

from tests.support.graphql import GraphQLClient

DISPATCH = """
mutation Dispatch($input: DispatchJobInput!) {
  dispatchJob(input: $input) {
    job { number status temporalWorkflowId }
    errors { code message field }
  }
}
"""
CANCEL = """
mutation Act($id: ID!) {
  cancelJob(id: $id) { job { status } errors { code message } }
}
"""
PAUSE = "mutation($id: ID!) { pauseJob(id: $id) { job { status } errors { code message } } }"
RESUME = "mutation($id: ID!) { resumeJob(id: $id) { job { status } errors { code message } } }"
APPROVE = """
mutation($id: ID!, $comment: String) {
  approveJob(id: $id, comment: $comment) { job { status } errors { code message } }
}
"""
REJECT = """
mutation($id: ID!, $reason: String) {
  rejectJob(id: $id, reason: $reason) { job { status } errors { code message } }
}
"""
ID = "query($number: Int!) { job(number: $number) { id } }"


async def dispatch(gql: GraphQLClient, **fields: Any) -> dict[str, Any]:
    """The `dispatchJob` payload for an input of `fields`."""
    payload: dict[str, Any] = (await gql.execute(DISPATCH, input=fields))["dispatchJob"]
    return payload


async def global_id(gql: GraphQLClient, number: int) -> str:
    return str((await gql.execute(ID, number=number))["job"]["id"])


async def act(gql: GraphQLClient, mutation: str, number: int, **extra: Any) -> dict[str, Any]:
    """The payload of `mutation` on job `number`."""
    data = await gql.execute(mutation, id=await global_id(gql, number), **extra)
    payload: dict[str, Any] = next(iter(data.values()))
    return payload
