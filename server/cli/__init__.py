"""The `jobmonitor` command line: one module per command group, assembled here."""

import typer
from pydantic import ValidationError

from server.settings import StartupError

from . import (
    api,
    automations,
    database,
    dev,
    operations,
    prune,
    reconcile,
    tokens,
    workers,
    workflows,
)

app = typer.Typer(
    help="jobmonitor: watch and steer workflow jobs that run on a fleet of agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold secrets
)
app.command()(api.serve)
app.command("export-schema")(api.export_schema)
app.command()(database.migrate)
app.command()(database.seed)
app.add_typer(tokens.tokens, name="tokens", no_args_is_help=True)
app.add_typer(workflows.workflows, name="workflows", no_args_is_help=True)
app.add_typer(operations.operations, name="operations", no_args_is_help=True)
app.add_typer(automations.automations, name="automations", no_args_is_help=True)
app.command()(workers.worker)
app.command()(workers.agent)
app.command()(dev.dev)
app.command("reconcile")(reconcile.reconcile_command)
app.command()(prune.prune)


def main() -> None:
    """The command line; a process that cannot start says why on one line and exits with 2."""
    try:
        app()
    except StartupError as error:
        typer.echo(f"error: {error}", err=True)
        raise SystemExit(2) from None
    except ValidationError as error:
        for problem in error.errors(include_input=False, include_url=False):
            typer.echo(f"error: {_setting_problem(problem['loc'], problem['msg'])}", err=True)
        raise SystemExit(2) from None


def _setting_problem(location: tuple[int | str, ...], message: str) -> str:
    """A settings error as the variable it concerns and what is wrong (never its value)."""
    message = message.removeprefix("Value error, ")
    if not location:
        return message
    return f"JOBMONITOR_{str(location[0]).upper()}: {message}"
