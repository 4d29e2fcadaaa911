"""`svidok link` and `svidok review ...`: run the linking engine, decide its suggestions."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from svidok.cli.context import open_service
from svidok.services import linking, review
from svidok.services.context import ServiceContext

console = Console()
review_app = typer.Typer(
    help="Review machine links: list, confirm, reject, merge, split.", no_args_is_help=True
)


def _ctx(ctx: typer.Context) -> ServiceContext:
    return open_service(ctx, "analyst")


def link(
    ctx: typer.Context,
    full: Annotated[bool, typer.Option("--full", help="Re-link everything, not only new mentions.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run's figures as JSON.")] = False,
    mention: Annotated[
        str | None,
        typer.Option("--mention", help="Link only this new mention, at once, and show its candidates."),
    ] = None,
) -> None:
    """Link mentions to persons, reports and evidence to incidents, missing persons to custody records."""
    service = _ctx(ctx)
    if mention is not None:
        candidates = linking.link_new_mention(service, mention)
        service.store.close()
        rows = [
            {
                "person_id": c.person_id,
                "probability": round(c.probability, 4),
                "via": c.via,
                "explanation": list(c.explanation),
            }
            for c in candidates
        ]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    with console.status("linking") as status:
        report = linking.link_register(service, progress=lambda step: status.update(step), full=full)
    service.store.close()
    if as_json:
        typer.echo(
            json.dumps({"stats": report.stats, "timings": report.timings, "model": report.model}, indent=2)
        )
        return
    table = Table("figure", "value")
    for key, value in report.stats.items():
        table.add_row(key, f"{value:,}")
    console.print(table)
    steps = Table("step", "wall s", "CPU s", "peak RSS MiB")
    for step, figures in report.timings.items():
        wall, cpu, rss = figures["wall_s"], figures["cpu_s"], figures["peak_rss_mib"]
        steps.add_row(step, f"{wall:.1f}", f"{cpu:.1f}", f"{rss:,.0f}")
    console.print(steps)


@review_app.command("list")
def list_(
    ctx: typer.Context,
    kind: Annotated[str | None, typer.Option(help="Link kind, e.g. mention_person.")] = None,
    status: Annotated[str, typer.Option(help="suggested, auto, confirmed or rejected.")] = "suggested",
    limit: Annotated[int, typer.Option()] = 20,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Links awaiting review, best first, with their explanations."""
    service = _ctx(ctx)
    links = review.list_links(service, kind=kind, status=status, limit=limit)
    service.store.close()
    if as_json:
        typer.echo(json.dumps(links, ensure_ascii=False, indent=2))
        return
    for item in links:
        console.print(
            f"[bold]{item['id']}[/bold] {item['kind']} {item['from_id']} → {item['to_id']} "
            f"score {item['score']:.3f} ({item['status']})"
        )
        for reason in item["explanation"]:
            console.print(f"    {reason}", highlight=False)


def _decision(name: str) -> None:
    def command(
        ctx: typer.Context,
        link_id: Annotated[str, typer.Argument(metavar="LINK_ID")],
    ) -> None:
        service = _ctx(ctx)
        decided = review.decide(service, link_id, name)
        service.store.close()
        console.print(f"{link_id}: {decided['status']} by {decided['decided_by']}")

    command.__doc__ = f"{name.capitalize()} one link."
    review_app.command(name)(command)


_decision("confirm")
_decision("reject")


@review_app.command("merge")
def merge(
    ctx: typer.Context,
    keep: Annotated[str, typer.Argument(help="Person id to keep.")],
    other: Annotated[str, typer.Argument(help="Person id that is the same person.")],
) -> None:
    """Two persons are one: move everything to KEEP."""
    service = _ctx(ctx)
    moved = review.merge_persons(service, keep, other)
    service.store.close()
    console.print(f"merged {other} into {keep}: " + ", ".join(f"{k} {v}" for k, v in moved.items() if v))


@review_app.command("split")
def split(
    ctx: typer.Context,
    person: Annotated[str, typer.Argument(help="Person id.")],
    mentions: Annotated[list[str], typer.Argument(help="Mention ids that are someone else.")],
) -> None:
    """Mentions wrongly put under a person become a new person."""
    service = _ctx(ctx)
    new_person = review.split_person(service, person, mentions)
    service.store.close()
    console.print(f"new person {new_person} for {len(mentions)} mention(s)")
