"""Ground truth for the linking benchmarks, kept outside the register.

Files under `<data_dir>/ground_truth/`, written as the chunks stream:
- mentions.csv: mention_id, true_identity, true_person_id (empty if the register has no person)
- mention_forms.csv: mention_id, form (script, scheme and name pattern the source used)
- sources.csv: source_id, true_incident_id (empty for leaked custody logs)
- evidence.csv: evidence_id, true_incident_id (empty for unrelated footage)
- missing.csv: missing_case_id, true_custody_record_id (empty if never logged in custody)
- custody.csv: custody_record_id, true_identity, true_person_id
- identities.csv: true_identity, true_person_id, kind, sex, birth_date, canonical name (be, ru)
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import IO, Any

from svidok.demo.people import Identity

HEADERS: dict[str, tuple[str, ...]] = {
    "mentions": ("mention_id", "true_identity", "true_person_id"),
    "mention_forms": ("mention_id", "form"),
    "sources": ("source_id", "true_incident_id"),
    "evidence": ("evidence_id", "true_incident_id"),
    "missing": ("missing_case_id", "true_custody_record_id"),
    "custody": ("custody_record_id", "true_identity", "true_person_id"),
    "identities": ("true_identity", "true_person_id", "kind", "sex", "birth_date", "name_be", "name_ru"),
}


class Truth:
    """CSV writers, one per ground-truth file; use as a context manager."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._files: dict[str, IO[str]] = {}
        self._writers: dict[str, Any] = {}
        self.counts: dict[str, int] = dict.fromkeys(HEADERS, 0)

    def __enter__(self) -> Truth:
        self.directory.mkdir(parents=True, exist_ok=True)
        for name, header in HEADERS.items():
            handle = (self.directory / f"{name}.csv").open("w", encoding="utf-8", newline="")
            self._files[name] = handle
            self._writers[name] = csv.writer(handle, lineterminator="\n")
            self._writers[name].writerow(header)
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._files.values():
            handle.close()

    def _row(self, name: str, *values: object) -> None:
        self._writers[name].writerow(["" if v is None else v for v in values])
        self.counts[name] += 1

    def identity(self, ident: Identity) -> None:
        self._row(
            "identities",
            ident.key,
            ident.person_id,
            ident.kind,
            ident.sex,
            ident.birth_date,
            ident.canonical("be"),
            ident.canonical("ru"),
        )

    def mention(self, mention_id: str, ident: Identity, form: str) -> None:
        self._row("mentions", mention_id, ident.key, ident.person_id)
        self._row("mention_forms", mention_id, form)

    def source(self, source_id: str, incident_id: str | None) -> None:
        self._row("sources", source_id, incident_id)

    def evidence(self, evidence_id: str, incident_id: str | None) -> None:
        self._row("evidence", evidence_id, incident_id)

    def missing(self, case_id: str, custody_id: str | None) -> None:
        self._row("missing", case_id, custody_id)

    def custody(self, record_id: str, ident: Identity) -> None:
        self._row("custody", record_id, ident.key, ident.person_id)
