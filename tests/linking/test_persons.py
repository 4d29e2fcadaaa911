"""Mentions → persons on the demo register: bands, quality against ground truth, human decisions kept."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from svidok.demo.generator import DemoConfig, generate
from svidok.linking.evaluate import cluster_quality
from svidok.services import linking, review
from svidok.services.context import Actor, ServiceContext
from svidok.settings import Settings
from svidok.store.register import Store, table_of


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServiceContext, Path]]:
    data_dir = tmp_path_factory.mktemp("linkdemo")
    store = Store.open(Settings(data_dir=data_dir), create=True)
    generate(store, data_dir, DemoConfig(scale=600, seed=11))
    ctx = ServiceContext(store, Actor("linker-test"))
    linking.link_register(ctx, full=True)
    yield ctx, data_dir
    store.close()


def _assignments(store: Store) -> dict[str, str | None]:
    mention = table_of("mention")
    with store.read() as conn:
        rows = conn.execute(select(mention.c.id, mention.c.person_id).where(mention.c.raw_name.is_not(None)))
        return {r.id: r.person_id for r in rows}


def test_every_named_mention_gets_a_person_and_quality_is_measured(demo: tuple[ServiceContext, Path]) -> None:
    ctx, data_dir = demo
    assigned = _assignments(ctx.store)
    assert assigned and all(assigned.values())
    truth = {r["mention_id"]: r["true_identity"] for r in csv.DictReader((data_dir / "ground_truth" / "mentions.csv").open())}
    ids = sorted(assigned)
    quality = cluster_quality([assigned[i] for i in ids], [truth[i] for i in ids])
    # a floor that catches regressions; bench/bench_linking.py reports the real figures
    assert quality.precision > 0.9 and quality.bcubed_f1 > 0.8


def test_the_three_bands_are_stored_with_explanations(demo: tuple[ServiceContext, Path]) -> None:
    ctx, _ = demo
    auto = review.list_links(ctx, kind="mention_person", status="auto", limit=5)
    queued = review.list_links(ctx, kind="mention_person", status="suggested", limit=5)
    assert auto and queued
    assert all(link["score"] >= 0.95 for link in auto)
    assert all(0.6 <= link["score"] < 0.95 for link in queued)
    assert auto[0]["explanation"][0].startswith("auto-linked: probability")
    assert any(reason.startswith("name: ") for reason in auto[0]["explanation"])


def test_human_decisions_survive_a_full_rerun(demo: tuple[ServiceContext, Path]) -> None:
    ctx, _ = demo
    [auto] = review.list_links(ctx, kind="mention_person", status="auto", limit=1)
    [queued] = review.list_links(ctx, kind="mention_person", status="suggested", limit=1)
    review.decide(ctx, auto["id"], "reject")
    review.decide(ctx, queued["id"], "confirm")
    linking.link_register(ctx, full=True)
    assigned = _assignments(ctx.store)
    assert assigned[auto["from_id"]] != auto["to_id"]
    assert assigned[queued["from_id"]] == queued["to_id"]
    statuses = {link["id"]: link["status"] for link in review.list_links(ctx, status="rejected", limit=500)}
    assert statuses.get(auto["id"]) == "rejected"
    confirmed = review.list_links(ctx, status="confirmed", limit=500)
    assert queued["id"] in {link["id"] for link in confirmed}


def test_a_second_full_run_changes_nothing(demo: tuple[ServiceContext, Path]) -> None:
    ctx, _ = demo
    before = _assignments(ctx.store)
    report = linking.link_register(ctx, full=True)
    assert report.stats["mentions_reassigned"] == 0 and report.stats["new_persons"] == 0
    assert _assignments(ctx.store) == before


def test_a_new_mention_is_linked_at_once_against_the_register(demo: tuple[ServiceContext, Path]) -> None:
    ctx, data_dir = demo
    mention = table_of("mention")
    with ctx.store.read() as conn:
        template = conn.execute(
            select(mention).where(mention.c.person_id.is_not(None), mention.c.raw_name.like("% % %")).limit(1)
        ).mappings().one()
    new = dict(template)
    new.update(id="me_newcomer01", person_id=None)
    with ctx.store.begin() as conn:
        conn.execute(mention.insert(), new)
    candidates = linking.link_new_mention(ctx, "me_newcomer01")
    assert candidates and candidates[0].person_id == template["person_id"]
    assert candidates[0].probability >= 0.95
    assert _assignments(ctx.store)["me_newcomer01"] == template["person_id"]
    [link] = [x for x in review.list_links(ctx, kind="mention_person", status="auto", limit=10_000) if x["from_id"] == "me_newcomer01"]
    assert link["to_id"] == template["person_id"] and link["explanation"][0].startswith("auto-linked")
