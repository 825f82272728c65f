"""Live updates: the hub that turns bus notices into stream wake-ups, the streams behind the
subscriptions, and the websocket endpoint whose cohorts share one execution per operation."""
