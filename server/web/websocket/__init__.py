"""The websocket transport at /graphql: the two protocols, connections, admission by token, and
cohorts of subscribers that share one execution per operation."""
