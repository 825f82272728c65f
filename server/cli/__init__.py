"""The `jobmonitor` command line: one module per command group, assembled here."""

import typer

from . import api, database, dev, reconcile, tokens, workers, workflows

app = typer.Typer(
    help="jobmonitor: watch and steer workflow jobs that run on a fleet of agents.",
    no_args_is_help=True,
    add_completion=False,
)
app.command()(api.serve)
app.command("export-schema")(api.export_schema)
app.command()(database.migrate)
app.command()(database.seed)
app.add_typer(tokens.tokens, name="tokens", no_args_is_help=True)
app.add_typer(workflows.workflows, name="workflows", no_args_is_help=True)
app.command()(workers.worker)
app.command()(workers.agent)
app.command()(dev.dev)
app.command("reconcile")(reconcile.reconcile_command)


def main() -> None:
    app()
