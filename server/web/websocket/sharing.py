"""When subscribers may share one execution: decided from the document, before it runs."""

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    NullValueNode,
    OperationType,
    VariableNode,
    get_operation_ast,
)

from server.live.streams import Sharing

REPLAY_ARGUMENT = "after"


def sharing_of(
    policy: Mapping[str, Sharing],
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any],
) -> Sharing:
    """How a subscription may be shared; queries, mutations and bad documents never are."""
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation is not OperationType.SUBSCRIPTION:
        return Sharing.NEVER
    selections = operation.selection_set.selections
    if len(selections) != 1 or not isinstance(selections[0], FieldNode):
        return Sharing.NEVER
    field = selections[0]
    # The registry checked at start-up that the policy names every subscription: a field it
    # does not name is not in the schema, and the document fails validation when it runs.
    sharing = policy.get(field.name.value, Sharing.NEVER)
    if sharing is Sharing.LIVE and _replays(field, variables):
        return Sharing.NEVER
    return sharing


def _replays(field: FieldNode, variables: Mapping[str, Any]) -> bool:
    for argument in field.arguments or ():
        if argument.name.value != REPLAY_ARGUMENT:
            continue
        value = argument.value
        if isinstance(value, VariableNode):
            # A variable left out may have a default: only an explicit null is "no replay".
            name = value.name.value
            return name not in variables or variables[name] is not None
        return not isinstance(value, NullValueNode)
    return False
