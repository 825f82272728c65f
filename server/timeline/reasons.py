"""Why a timeline has nothing to show."""

NOT_CONFIGURED = "Temporal is not configured for this server"
UNREACHABLE = "Temporal unreachable"
NO_HISTORY = "no workflow history"
