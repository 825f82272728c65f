"""Live updates below the schema: the hub that turns bus notices into stream wake-ups, and the
streams behind the subscriptions. (The websocket transport is `server.web.websocket`.)"""
