"""Whether serving on an address without authentication would open the API to a network."""

import ipaddress

from server.settings import AuthMode, Settings


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def unsafe_exposure(settings: Settings, host: str) -> str | None:
    """Why serving on `host` with these settings would be unsafe, or None if it is not."""
    if (
        settings.auth is AuthMode.DISABLED
        and not settings.allow_unauthenticated
        and not is_loopback(host)
    ):
        return (
            f"refusing to serve without authentication on {host}: anyone who can reach it "
            "could read and steer every job. Enable auth (JOBMONITOR_AUTH=enabled), listen "
            "on 127.0.0.1, or pass --allow-unauthenticated "
            "(JOBMONITOR_ALLOW_UNAUTHENTICATED=true) if this network is trusted."
        )
    return None
