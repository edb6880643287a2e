"""The ``cloudsword`` command: generate data, run the pipeline, open the UIs, manage leads."""

from __future__ import annotations

import functools
import ipaddress
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ml.settings import DEFAULT_HOME, ENV_HOME, Home
from ml.warehouse import WarehouseBusy, writer_lock

console = Console(stderr=True)
out = Console()

app = typer.Typer(
    help=(
        "cloudsword: scores marketplace listings and sellers for counterfeiting, traces the "
        "rings and factories behind them, and exports ranked, evidence-backed leads.\n\n"
        f"Everything lives in one home folder: --home, else ${ENV_HOME}, else {DEFAULT_HOME}."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
)
leads_app = typer.Typer(help="List, inspect, export and triage leads.", no_args_is_help=True)
app.add_typer(leads_app, name="leads")

HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help=f"cloudsword home folder (default: ${ENV_HOME}, else {DEFAULT_HOME}).",
        show_default=False,
    ),
]
SCALES_HELP = "tiny ≈1k listings (tests), small ≈20k (demo), medium ≈100k, large ≈1M listings"


P = ParamSpec("P")
R = TypeVar("R")


def _user_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Show errors a user can act on (no warehouse yet, a busy warehouse) as one red line."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (FileNotFoundError, WarehouseBusy) as exc:
            console.print(f"[red]{exc}[/]")
            raise typer.Exit(1) from None

    return wrapper


def _home(home: Path | None) -> Home:
    paths = Home.resolve(home).ensure()
    paths.export_env()
    return paths


@app.command()
def generate(
    scale: Annotated[str, typer.Option(help=SCALES_HELP)] = "small",
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed gives the same bytes.", min=0)
    ] = 7,
    force: Annotated[
        bool, typer.Option(help="Replace landing/ and truth/ if they already hold data.")
    ] = False,
    home: HomeOption = None,
) -> None:
    """Write a synthetic marketplace into HOME/landing/ as time-ordered batches.

    The ground truth (which listings and sellers are counterfeit, which rings and upstream
    sources exist) goes to HOME/truth/, which the pipeline never reads.
    """
    from ml.generate import SCALES
    from ml.generate import generate as generate_marketplace

    if scale not in SCALES:
        raise typer.BadParameter(f"unknown scale {scale!r}; choose from {', '.join(SCALES)}")
    paths = _home(home)
    existing = [p for p in paths.landing.iterdir()] if paths.landing.exists() else []
    if existing and not force:
        console.print(
            f"[red]{paths.landing} already holds {len(existing)} batch folder(s).[/] "
            "Use --force to replace them, or another --home."
        )
        raise typer.Exit(2)
    if force:
        shutil.rmtree(paths.landing, ignore_errors=True)
        shutil.rmtree(paths.truth, ignore_errors=True)
    with _progress() as progress:
        task = progress.add_task("generating", total=None)

        def report(label: str, done: int, total: int) -> None:
            progress.update(task, description=label, completed=done, total=total)

        summary = generate_marketplace(
            paths.landing, paths.truth, scale=scale, seed=seed, progress=report
        )
    console.print(
        f"[green]Generated[/] scale {scale}, seed {seed}: {len(summary.batch_ids)} batches in "
        f"{paths.landing} (ground truth in {paths.truth})"
    )


@app.command()
def run(
    home: HomeOption = None,
    retrain: Annotated[
        bool,
        typer.Option(help="Then retrain the model (the train job), even without new outcomes."),
    ] = False,
) -> None:
    """Process every complete batch not yet processed, then bring every asset up to date.

    Scores use the current champion model; training is `cloudsword train`'s job (or --retrain),
    except in a home that has no model yet. Runs go through the Dagster instance under
    HOME/dagster, so they show in `cloudsword ui`. A second run without new data changes nothing.
    """
    from orchestration.runner import run_pipeline

    paths = _home(home)
    outcome = run_pipeline(paths, retrain=retrain, console=console)
    if not outcome.ok:
        raise typer.Exit(1)


@app.command()
@_user_errors
def train(
    home: HomeOption = None,
    if_due: Annotated[
        bool,
        typer.Option(
            "--if-due",
            help="Only train if enough new outcomes arrived since the champion's data cutoff.",
        ),
    ] = False,
) -> None:
    """Retrain the listing model, then re-score, re-trace and re-export the leads.

    The new model becomes champion only if it passes the promotion gate. Under `cloudsword ui`
    the train_when_due sensor and the weekly_retrain schedule start the same job.
    """
    from orchestration.runner import train_model

    if not train_model(_home(home), force=not if_due, console=console):
        raise typer.Exit(1)


def is_loopback(host: str) -> bool:
    """Whether ``host`` only reaches this machine (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


EXPOSED = (
    "Neither the Dagster webserver nor the MLflow UI asks who you are: anyone who reaches {host} "
    "can see the warehouse's leads and start or cancel runs, and Dagster answers GraphQL for any "
    "Host header, so a web page you visit could drive it (DNS rebinding). Put them behind an "
    "authenticating reverse proxy on 127.0.0.1 instead (README, 'The UIs'), or pass --expose if "
    "this network is yours alone."
)


@app.command()
def ui(
    home: HomeOption = None,
    host: Annotated[
        str, typer.Option(help="Address to bind; anything but loopback also needs --expose.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Dagster webserver port.", min=1, max=65535)] = 3000,
    mlflow_port: Annotated[
        int, typer.Option(help="MLflow UI port (0 to skip MLflow).", min=0, max=65535)
    ] = 5000,
    expose: Annotated[
        bool,
        typer.Option(help="Confirm serving a non-loopback --host without authentication."),
    ] = False,
) -> None:
    """Start the Dagster webserver and daemon, and the MLflow UI; stop them with Ctrl-C."""
    import dagster as dg

    from orchestration.runner import report_abandoned_runs
    from orchestration.servers import serve_uis

    if not is_loopback(host):
        if not expose:
            console.print(f"[red]Refusing to serve on {host}.[/] " + EXPOSED.format(host=host))
            raise typer.Exit(2)
        console.print(f"[yellow]Serving on {host} without authentication.[/]")
    paths = _home(home)
    # A run a dead `cloudsword run` left "started" would hold the daemon's one-run queue.
    instance = dg.DagsterInstance.from_config(str(paths.dagster_home))
    try:
        report_abandoned_runs(instance, paths, console)
    finally:
        instance.dispose()
    serve_uis(paths, host=host, port=port, mlflow_port=mlflow_port, console=console)


@app.command()
def demo(
    home: HomeOption = None,
    scale: Annotated[str, typer.Option(help=SCALES_HELP)] = "small",
    seed: Annotated[int, typer.Option(help="Random seed of the generated marketplace.", min=0)] = 7,
) -> None:
    """Generate a marketplace into a fresh home, run everything, and show the best leads."""
    paths = _home(home)
    marker = paths.root / "demo.json"
    wanted = {"scale": scale, "seed": seed}
    if marker.exists() and json.loads(marker.read_text()) == wanted:
        console.print(f"Reusing the demo data already generated in {paths.root}.")
    elif any(paths.landing.iterdir()):
        console.print(
            f"[red]{paths.root} already holds other data.[/] The demo wants a fresh home: "
            "pass --home with a new folder."
        )
        raise typer.Exit(2)
    else:
        generate(scale=scale, seed=seed, force=False, home=paths.root)
        marker.write_text(json.dumps(wanted))
    run(home=paths.root, retrain=False)
    _print_leads(paths, limit=10)
    out.print(
        f"\nExports: {paths.exports}/leads.csv, leads.parquet, index.html and leads/<lead_id>"
        ".json|.html\n"
        f"Open the UIs: cloudsword ui --home {paths.root}\n"
        "  Dagster  http://127.0.0.1:3000  (runs, lineage, asset metadata)\n"
        "  MLflow   http://127.0.0.1:5000  (model runs, metrics, registry)"
    )


@leads_app.command("list")
@_user_errors
def leads_list(
    home: HomeOption = None,
    limit: Annotated[int, typer.Option(help="How many leads to show.", min=1)] = 20,
    status: Annotated[str | None, typer.Option(help="Only leads with this status.")] = None,
) -> None:
    """The ranked leads, best first."""
    _print_leads(_home(home), limit=limit, status=status)


@leads_app.command("show")
@_user_errors
def leads_show(lead_id: str, home: HomeOption = None) -> None:
    """One lead's whole case package (masked), as JSON."""
    from ml.leads import get_lead

    paths = _home(home)
    lead = get_lead(paths.warehouse, lead_id)
    if lead is None:
        console.print(f"[red]No lead {lead_id}[/]")
        raise typer.Exit(1)
    out.print_json(json.dumps(lead, default=str))


@leads_app.command("export")
@_user_errors
def leads_export(
    home: HomeOption = None,
    unmasked: Annotated[
        bool,
        typer.Option(
            "--unmasked",
            help="Write payment accounts, phones and ID hashes in clear. Logged.",
        ),
    ] = False,
) -> None:
    """Write exports/leads.csv, leads.parquet and the per-lead JSON and HTML reports."""
    from ml.leads import export_leads

    paths = _home(home)
    # The warehouse has one writer at a time; wait for a running pipeline step to finish.
    with writer_lock(paths.warehouse):
        summary = export_leads(paths.warehouse, paths.exports, paths.logs, unmasked=unmasked)
    console.print(
        f"Exported {summary.n_leads} leads to {paths.exports}"
        + (" [yellow](UNMASKED, logged)[/]" if unmasked else " (masked)")
    )


@leads_app.command("set-status")
@_user_errors
def leads_set_status(
    lead_id: str,
    status: Annotated[str, typer.Argument(help="new | exported | accepted | rejected | closed")],
    note: Annotated[str, typer.Option(help="Why; kept in the lead's history.")] = "",
    home: HomeOption = None,
) -> None:
    """Move a lead through its lifecycle (new → exported → accepted | rejected → closed)."""
    from ml.leads import set_status

    paths = _home(home)
    try:
        with writer_lock(paths.warehouse):
            set_status(paths.warehouse, lead_id, status, note=note)
    except ValueError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    console.print(f"{lead_id} is now {status}")


def _print_leads(paths: Home, limit: int, status: str | None = None) -> None:
    from ml.leads import list_leads

    rows = list_leads(paths.warehouse, limit=limit, status=status)
    table = Table(
        title=f"Top {len(rows)} leads", box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1)
    )
    for col, justify in (
        ("#", "right"),
        ("lead", "left"),
        ("priority", "right"),
        ("status", "left"),
        ("city", "left"),
        ("sellers", "right"),
        ("sources", "right"),
        ("value CNY", "right"),
    ):
        table.add_column(col, justify=justify, no_wrap=True)
    for r in rows:
        table.add_row(
            str(r["rank"]),
            r["lead_id"],
            f"{r['priority_score']:.1f}",
            r["status"],
            r["city"] or "?",
            str(len(r["seller_ids"])),
            str(len(r["source_ids"] or [])),
            f"{r['est_counterfeit_value']:,.0f}",
        )
    out.print(table)
    for r in rows:
        # One line of evidence per lead, cut to the terminal; `leads show` has it all.
        line = f"{r['lead_id']}: {r['evidence_summary'] or ''}"
        out.print(line, overflow="ellipsis", no_wrap=True, highlight=False)
    if rows:
        out.print(f"Full case package: cloudsword leads show {rows[0]['lead_id']}")


def _progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    )
