"""A full run with `defer_ambiguous`: partial names two persons fit wait for review, never auto-linked."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from svidok.demo.generator import DemoConfig, generate
from svidok.linking.persons import PersonLinkSettings
from svidok.services import linking
from svidok.services.context import Actor, ServiceContext
from svidok.settings import Settings
from svidok.store.register import Store, table_of


def test_deferred_partial_names_go_to_review(tmp_path: Path) -> None:
    store = Store.open(Settings(data_dir=tmp_path), create=True)
    try:
        generate(store, tmp_path, DemoConfig(scale=600, seed=11))
        ctx = ServiceContext(store, Actor("linker-test"))
        settings = linking.LinkSettings(persons=PersonLinkSettings(defer_ambiguous=True))
        report = linking.link_register(ctx, settings, full=True)
        held = {report.records.ids[i] for i in report.result.ambiguous}
        assert held and report.stats["ambiguous_records"] == len(held)
        link = table_of("link")
        with store.read() as conn:
            rows = conn.execute(
                select(link.c.from_id, link.c.to_id, link.c.status, link.c.explanation).where(
                    link.c.kind == "mention_person", link.c.from_id.in_(sorted(held))
                )
            ).all()
        assert not [r for r in rows if r.status == "auto"]
        flagged = [r for r in rows if "another person fits as well" in r.explanation[0]]
        assert flagged and all(r.status == "suggested" for r in flagged)
        # at least one held mention has two different persons waiting for a reviewer
        targets: dict[str, set[str]] = {}
        for r in flagged:
            targets.setdefault(r.from_id, set()).add(r.to_id)
        assert any(len(t) >= 2 for t in targets.values())
    finally:
        store.close()
