"""HTTP and websocket plumbing around the GraphQL schema: the router, middlewares, limits."""
