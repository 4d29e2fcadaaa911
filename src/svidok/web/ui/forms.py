"""The public form: parse what a source typed into a `SubmissionDraft`, with messages in their language."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.datastructures import FormData, UploadFile

from svidok.errors import InputError
from svidok.services.intake import (
    URGENT_REASONS,
    Perpetrator,
    SubmissionDraft,
    Upload,
    Victim,
    reported_time,
)
from svidok.web.config import WebSettings
from svidok.web.i18n import Translator
from svidok.web.uploads import Refusal, take

VICTIMS = 2
PERPETRATORS = 3
PERPETRATOR_FIELDS = ("name", "rank", "badge", "unit", "uniform", "vehicle")
AUTHOR_ROLES = ("victim", "witness", "relative", "insider", "medic", "lawyer", "journalist", "unknown")
PRECISIONS = ("minute", "hour", "day", "week")
TEXT_LIMITS = {"what_happened": 20_000, "contact": 2000, "place_text": 300}


@dataclass
class Parsed:
    draft: SubmissionDraft | None
    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)


def _text(form: FormData, name: str, limit: int = 300) -> str:
    value = form.get(name)
    return value[: max(limit, TEXT_LIMITS.get(name, 0))] if isinstance(value, str) else ""


def _number(value: str) -> float | None:
    try:
        return float(value.replace(",", ".")) if value.strip() else None
    except ValueError:
        raise InputError("lat, lon") from None


def values_of(form: FormData) -> dict[str, Any]:
    """Everything the source typed, to show the form again (files are never echoed back)."""
    names = [
        "what_happened",
        "when_date",
        "when_time",
        "when_precision",
        "place_text",
        "lat",
        "lon",
        "author_role",
        "contact",
    ]
    names += [f"victim_{i}_{f}" for i in range(1, VICTIMS + 1) for f in ("name", "desc")]
    names += [f"perp_{i}_{f}" for i in range(1, PERPETRATORS + 1) for f in PERPETRATOR_FIELDS]
    values: dict[str, Any] = {n: _text(form, n, 4000) for n in names}
    values["injuries"] = [v for v in form.getlist("injuries") if isinstance(v, str)]
    values["urgent"] = [v for v in form.getlist("urgent") if isinstance(v, str)]
    return values


def parse(form: FormData, lang: str, tr: Translator, web: WebSettings, where: Path) -> Parsed:
    """Check the form; spool acceptable files into `where`. Messages are in the source's language."""
    values = values_of(form)
    errors: dict[str, str] = {}
    _ = tr.gettext
    if not values["what_happened"].strip():
        errors["what_happened"] = _("Please describe what happened.")
    try:
        start, end, precision = reported_time(
            values["when_date"], values["when_time"], values["when_precision"] or "day", web.timezone
        )
    except InputError:
        errors["when_date"] = _("The date or time is not valid.")
        start = end = precision = None
    try:
        lat, lon = _number(values["lat"]), _number(values["lon"])
        if (
            (lat is None) != (lon is None)
            or (lat is not None and not -90 <= lat <= 90)
            or (lon is not None and not -180 <= lon <= 180)
        ):
            raise InputError("lat, lon")
    except InputError:
        errors["lat"] = _("Give both latitude and longitude as numbers, or neither.")
        lat = lon = None
    role = values["author_role"] if values["author_role"] in AUTHOR_ROLES else "unknown"
    uploads = _files(form, tr, web, where, errors)
    draft = SubmissionDraft(
        language=lang,
        what_happened=values["what_happened"],
        author_role=role,
        reported_start=start,
        reported_end=end,
        reported_precision=precision,
        place_text=values["place_text"],
        lat=lat,
        lon=lon,
        victims=[
            Victim(values[f"victim_{i}_name"], values[f"victim_{i}_desc"]) for i in range(1, VICTIMS + 1)
        ],
        perpetrators=[
            Perpetrator(*(values[f"perp_{i}_{f}"] for f in PERPETRATOR_FIELDS))
            for i in range(1, PERPETRATORS + 1)
        ],
        injuries=[c for c in values["injuries"] if c],
        urgent=[r for r in values["urgent"] if r in URGENT_REASONS],
        contact=values["contact"],
        files=uploads,
    )
    return Parsed(None if errors else draft, values, errors)


def _files(
    form: FormData, tr: Translator, web: WebSettings, where: Path, errors: dict[str, str]
) -> list[Upload]:
    files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    if len(files) > web.max_files:
        errors["files"] = tr.gettext("At most {n} files at once.", n=web.max_files)
        return []
    uploads: list[Upload] = []
    problems: list[str] = []
    for index, upload in enumerate(files):
        got = take(
            where,
            index,
            upload.filename or "file",
            upload.file,
            max_bytes=web.max_file_bytes,
            accepted=web.accepted_types,
        )
        if isinstance(got, Refusal):
            if got.reason == "size":
                problems.append(
                    tr.gettext(
                        "{name}: the file is larger than {mb} MB.",
                        name=got.name,
                        mb=web.max_file_mb,
                    )
                )
            else:
                problems.append(
                    tr.gettext(
                        "{name}: this type of file is not accepted (only photos, video, audio, PDF, text).",
                        name=got.name,
                    )
                )
        else:
            uploads.append(got)
    if problems:
        errors["files"] = " ".join(problems)
    return uploads
