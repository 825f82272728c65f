"""`jobmonitor tokens create|revoke`: API tokens, sent as `Authorization: Bearer <token>`."""

from typing import Annotated

import typer

from server.auth.store import create_token, revoke_token
from server.domain.errors import DomainError
from server.domain.roles import Role

from .process import with_runtime

tokens = typer.Typer(help="API tokens, sent as `Authorization: Bearer <token>`.")


@tokens.command("create")
def create_token_command(
    role: Annotated[Role, typer.Option(help="viewer reads; operator also acts; admin all.")],
    tenant: Annotated[str | None, typer.Option(help="Tenant (default: default).")] = None,
    name: Annotated[str | None, typer.Option(help="Recorded as the actor of its actions.")] = None,
) -> None:
    """Create a token. It is printed alone on the last line, and only this once."""
    try:
        issued = with_runtime(
            lambda runtime: create_token(
                runtime.session_factory,
                tenant=tenant or runtime.settings.default_tenant,
                role=role,
                name=name,
            )
        )
    except DomainError as error:
        typer.echo(error.message, err=True)
        raise typer.Exit(2) from error
    typer.echo(
        f"token {issued.id} ({issued.name!r}, {issued.role}) for tenant {issued.tenant!r}; "
        "store it now, it is not shown again:"
    )
    typer.echo(issued.token)


@tokens.command("revoke")
def revoke_token_command(
    token_id: Annotated[int, typer.Argument(help="The id `tokens create` printed.")],
) -> None:
    """Revoke a token; servers sharing the event bus refuse it at once, others within
    JOBMONITOR_TOKEN_CACHE_SECONDS."""
    try:
        with_runtime(
            lambda runtime: revoke_token(runtime.session_factory, runtime.bus, token_id=token_id)
        )
    except DomainError as error:
        typer.echo(error.message, err=True)
        raise typer.Exit(1) from error
    typer.echo(f"token {token_id} revoked")
