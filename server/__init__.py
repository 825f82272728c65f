"""jobmonitor: a GraphQL backend for watching and steering workflow jobs on a fleet of agents."""
