"""A small demo run fills every record kind with valid, consistent rows."""

from __future__ import annotations

from sqlalchemy import text

from svidok.domain.values import BASES, CREDIBILITY_GRADES, RELIABILITY_GRADES, SEXES, TIME_PRECISIONS
from svidok.domain.vocabulary import vocabulary
from svidok.store.models import RECORD_TABLES

from .conftest import SCALE, DemoRun


def test_every_record_kind_but_link_is_filled(demo_run: DemoRun) -> None:
    counts = demo_run.store.counts()
    empty = [kind for kind in RECORD_TABLES if kind != "link" and not counts[kind]]
    assert empty == []
    assert counts["link"] == 0
    assert counts == {**dict.fromkeys(RECORD_TABLES, 0), **demo_run.result.counts}


def test_scale_is_the_number_of_testimonies(demo_run: DemoRun) -> None:
    kinds = [s["kind"] for s in demo_run.rows("source")]
    assert kinds.count("testimony") == SCALE
    assert set(kinds) == {"testimony", "custody_document"}


def test_codes_are_valid_against_the_vocabularies(demo_run: DemoRun) -> None:
    def check(vocab: str, values: object) -> None:
        v = vocabulary(vocab)
        for value in values:  # type: ignore[attr-defined]
            v.check(value)

    run = demo_run
    check("place_type", {p["kind"] for p in run.rows("place")})
    check("unit_kind", {u["kind"] for u in run.rows("unit")})
    check("incident_status", {i["status"] for i in run.rows("incident")})
    check("violation_type", {a["violation"] for a in run.rows("act")})
    check("injury_type", {i for a in run.rows("act") for i in a["injuries"]})
    check("injury_type", {i for c in run.rows("custody_record") for i in c["injuries"]})
    check("involvement_role", {i["role"] for i in run.rows("involvement")})
    check("mention_role", {m["role"] for m in run.rows("mention")})
    check("source_kind", {s["kind"] for s in run.rows("source")})
    check("source_role", {s["author_role"] for s in run.rows("source")})
    check("missing_status", {m["status"] for m in run.rows("missing_case")})
    sources = run.rows("source")
    assert {s["reliability"] for s in sources} <= set(RELIABILITY_GRADES)
    assert {s["credibility"] for s in sources} <= set(CREDIBILITY_GRADES)
    assert {s["language"] for s in sources} == {"be", "ru", "uk", "en", "pl"}
    assert {p["sex"] for p in run.rows("person")} <= set(SEXES)
    incidents = run.rows("incident")
    assert {i["start_precision"] for i in incidents} <= set(TIME_PRECISIONS)
    evidence = run.rows("evidence")
    assert {e["capture_time_basis"] for e in evidence} <= set(BASES)
    assert {e["capture_place_basis"] for e in evidence} <= set(BASES)
    assert all(len(e["sha256"]) == 64 for e in evidence)


def test_rows_are_consistent(demo_run: DemoRun) -> None:
    with demo_run.store.read() as conn:
        assert conn.execute(text("PRAGMA foreign_key_check")).fetchall() == []
    assert all(m["person_id"] is None for m in demo_run.rows("mention"))
    assert all(c["person_id"] is None for c in demo_run.rows("custody_record"))
    for incident in demo_run.rows("incident"):
        assert incident["end_at"] >= incident["start_at"]
        assert incident["start_offset_min"] == 180
    for evidence in demo_run.rows("evidence"):
        assert evidence["capture_end"] >= evidence["capture_start"]
    units = {u["id"]: u for u in demo_run.rows("unit")}
    kinds = {u["kind"] for u in units.values()}
    assert {
        "ministry",
        "directorate",
        "riot_police",
        "company",
        "platoon",
        "court",
        "police_department",
        "detention_administration",
    } <= kinds
    platoon = next(u for u in units.values() if u["kind"] == "platoon")
    chain = [platoon["kind"]]
    while platoon["parent_id"]:
        platoon = units[platoon["parent_id"]]
        chain.append(platoon["kind"])
    assert chain == ["platoon", "company", "riot_police", "directorate", "ministry"]


def test_ground_truth_covers_every_mention_source_evidence_and_case(demo_run: DemoRun) -> None:
    run = demo_run
    persons = {p["id"] for p in run.rows("person")}
    mentions = run.truth("mentions")
    assert [m["mention_id"] for m in sorted(mentions, key=lambda m: m["mention_id"])] == [
        m["id"] for m in run.rows("mention")
    ]
    assert all(m["true_identity"] for m in mentions)
    assert {m["true_person_id"] for m in mentions if m["true_person_id"]} <= persons
    assert any(not m["true_person_id"] for m in mentions)
    sources = run.truth("sources")
    assert {s["source_id"] for s in sources} == {s["id"] for s in run.rows("source")}
    incidents = {i["id"] for i in run.rows("incident")}
    testimony = {s["id"] for s in run.rows("source") if s["kind"] == "testimony"}
    assert all(s["true_incident_id"] in incidents for s in sources if s["source_id"] in testimony)
    evidence = run.truth("evidence")
    assert {e["evidence_id"] for e in evidence} == {e["id"] for e in run.rows("evidence")}
    assert {e["true_incident_id"] for e in evidence if e["true_incident_id"]} <= incidents
    missing = run.truth("missing")
    custody = {c["id"] for c in run.rows("custody_record")}
    assert {m["missing_case_id"] for m in missing} == {m["id"] for m in run.rows("missing_case")}
    assert {m["true_custody_record_id"] for m in missing if m["true_custody_record_id"]} <= custody
    assert {c["custody_record_id"] for c in run.truth("custody")} == custody
    forms = run.truth("mention_forms")
    assert {f["mention_id"] for f in forms} == {m["mention_id"] for m in mentions}


def test_citations_rest_on_testimonies_about_their_incident(demo_run: DemoRun) -> None:
    truth = {s["source_id"]: s["true_incident_id"] for s in demo_run.truth("sources")}
    acts = {a["id"]: a["incident_id"] for a in demo_run.rows("act")}
    citations = demo_run.rows("citation")
    assert {c["subject_kind"] for c in citations} == {"incident", "act"}
    for c in citations:
        incident = c["subject_id"] if c["subject_kind"] == "incident" else acts[c["subject_id"]]
        assert truth[c["source_id"]] == incident
