"""The sharing policy names every subscription of the schema, or the endpoint does not start."""

from collections.abc import Mapping

import pytest
from graphql import parse

from resolvers.schema import build_schema
from resolvers.subscription import SHARING
from server.live.streams import Sharing
from server.web.websocket.cohorts import CohortRegistry


def registry(policy: Mapping[str, Sharing]) -> CohortRegistry:
    return CohortRegistry(build_schema(), policy, parse=parse, timeout=1.0)


def test_the_policy_names_every_subscription_of_the_schema() -> None:
    registry(SHARING)


def test_a_subscription_left_out_of_the_policy_stops_the_start() -> None:
    policy = {name: sharing for name, sharing in SHARING.items() if name != "jobCounts"}

    with pytest.raises(ValueError, match=r"missing \['jobCounts'\]"):
        registry(policy)


def test_a_policy_entry_for_no_subscription_stops_the_start() -> None:
    policy = {**SHARING, "jobDeleted": Sharing.LIVE}

    with pytest.raises(ValueError, match=r"not in the schema \['jobDeleted'\]"):
        registry(policy)
