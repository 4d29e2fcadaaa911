"""Evidence packages for prosecutors: one incident, everything that supports it, signed (EV-05).

Contents of the zip:

- `record.json`: the incident, its acts, victims and (for roles that may view
  them) suspects, as the role may see them (`ctx.visible`, `ctx.mask`); the
  sources with their reliability/credibility grading; evidence metadata; the
  Berkeley Protocol fields of online material (URL, capture time, tool, hash);
- `files/<sha256><ext>`: each evidence item's original bytes, decrypted and
  re-hashed on the way out;
- `custody/<evidence id>.json`: its chain-of-custody events;
- `proofs.json`: the audit entries of those events and of the package's own
  creation, their RFC 9162 inclusion proofs and the signed checkpoint;
- `dossier.html` (and `dossier.pdf`): a readable account with a timeline;
- `verify_package.py`: the stand-alone verifier;
- `manifest.json`: SHA-256 and size of every file above; `signature.json`: the
  Ed25519 signature of the manifest by the register's audit key.

Making a package writes a custody event `export` for every original in it and an
audit entry `evidence.package`, then signs a checkpoint covering them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import secrets
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, or_, select

from svidok.audit.entry import utc_naive
from svidok.errors import ConfigError, NotFound
from svidok.evidence import custody
from svidok.evidence.blobs import BlobStore
from svidok.evidence.stream import decrypt_stream
from svidok.reports import dossier, verify_package
from svidok.services.context import ServiceContext
from svidok.services.keys import Protection
from svidok.services.transfer import export_form
from svidok.store.models import Base
from svidok.store.register import table_of

__all__ = ["FORMAT", "build_package"]

FORMAT = "svidok-evidence-package"
_ENTRY = Base.metadata.tables["audit_entry"]


def _plain(kind: str, row: dict[str, Any]) -> dict[str, Any]:
    form = export_form(kind, row)
    form.pop("record", None)
    return form


def _visible_rows(ctx: ServiceContext, conn: Connection, kind: str, where: Any) -> list[dict[str, Any]]:
    table = table_of(kind)
    query = select(table).where(where, ctx.visible(kind, table.c.id)).order_by(table.c.id)
    rows = [dict(r) for r in conn.execute(query).mappings()]
    return [_plain(kind, r) for r in ctx.mask(conn, kind, rows)]


def _collect(ctx: ServiceContext, conn: Connection, incident_id: str, suggested: bool) -> dict[str, Any]:
    incident, act, inv = table_of("incident"), table_of("act"), table_of("involvement")
    source, citation, evidence = table_of("source"), table_of("citation"), table_of("evidence")
    link, person, place = table_of("link"), table_of("person"), table_of("place")
    found = _visible_rows(ctx, conn, "incident", incident.c.id == incident_id)
    if not found:
        raise NotFound("incident", incident_id)
    inc = found[0]
    if inc.get("place_id"):
        names = conn.execute(select(place.c.name).where(place.c.id == inc["place_id"])).first()
        inc["place_name"] = names[0] if names else None
    acts = _visible_rows(ctx, conn, "act", act.c.incident_id == incident_id)
    act_ids = [a["id"] for a in acts]
    victim_ids = sorted({a["victim_id"] for a in acts if a.get("victim_id")})
    victims = _visible_rows(ctx, conn, "person", person.c.id.in_(victim_ids))
    suspects_ok = ctx.can("suspect.view")
    suspects: list[dict[str, Any]] = []
    if suspects_ok:
        invs = _visible_rows(ctx, conn, "involvement", inv.c.act_id.in_(act_ids))
        people = {
            p["id"]: p
            for p in _visible_rows(
                ctx, conn, "person", person.c.id.in_(sorted({i["person_id"] for i in invs if i["person_id"]}))
            )
        }
        units = {u["id"]: u for u in _visible_rows(ctx, conn, "unit", table_of("unit").c.id.isnot(None))}
        for i in invs:
            who = people.get(i["person_id"]) if i["person_id"] else None
            unit = units.get(i["unit_id"]) if i["unit_id"] else None
            suspects.append(
                {
                    **i,
                    "person": (who.get("primary_name") or who.get("pseudonym")) if who else None,
                    "unit": unit["name"] if unit else None,
                }
            )
    cited = select(citation.c.source_id).where(
        or_(
            (citation.c.subject_kind == "incident") & (citation.c.subject_id == incident_id),
            (citation.c.subject_kind == "act") & citation.c.subject_id.in_(act_ids),
        )
    )
    sources = _visible_rows(ctx, conn, "source", source.c.id.in_(cited))
    statuses = ["confirmed", "suggested"] if suggested else ["confirmed"]
    linked = select(link.c.from_id).where(
        link.c.kind == "evidence_incident", link.c.to_id == incident_id, link.c.status.in_(statuses)
    )
    items = _visible_rows(
        ctx,
        conn,
        "evidence",
        or_(evidence.c.id.in_(linked), evidence.c.source_id.in_([s["id"] for s in sources])),
    )
    by_source = {s["id"]: s for s in sources}
    online = [
        {
            "evidence_id": ev["id"],
            "url": by_source[ev["source_id"]]["url"],
            "captured_at": by_source[ev["source_id"]]["captured_at"],
            "capture_tool": by_source[ev["source_id"]]["capture_tool"],
            "sha256": ev["sha256"],
        }
        for ev in items
        if ev.get("source_id") in by_source and by_source[ev["source_id"]].get("url")
    ]
    return {
        "incident": inc,
        "acts": acts,
        "victims": victims,
        "suspects": suspects,
        "suspects_included": suspects_ok,
        "sources": sources,
        "evidence": items,
        "online": online,
    }


def _original(p: Protection, blobs: BlobStore, digest: str) -> bytes | None:
    sha, parts = hashlib.sha256(), []
    try:
        with blobs.open(digest) as fh:
            for chunk in decrypt_stream(fh, p.keyring.data_key):
                sha.update(chunk)
                parts.append(chunk)
    except NotFound:
        return None  # metadata only (e.g. an item known from a partner, original not held)
    if sha.hexdigest() != digest:
        raise ConfigError(
            f"stored original {digest} no longer matches its SHA-256: run `svidok evidence verify`"
        )
    return b"".join(parts)


def build_package(
    ctx: ServiceContext,
    p: Protection,
    blobs: BlobStore,
    incident_id: str,
    out: Path,
    *,
    purpose: str = "evidence package",
    suggested: bool = False,
) -> dict[str, Any]:
    """Write the signed package for `incident_id` to `out` (a .zip); return its manifest."""
    ctx.require_record("evidence.export", "incident", incident_id)
    if p.audit.key.private is None:
        raise ConfigError("the audit key cannot sign (no private key): packages need it")
    package_id = f"pk_{secrets.token_hex(10)}"
    with p.store.read() as conn:
        record = _collect(ctx, conn, incident_id, suggested)
    files: dict[str, bytes] = {}
    for ev in record["evidence"]:
        data = _original(p, blobs, ev["sha256"])
        ev["file"] = None
        if data is not None:
            ext = mimetypes.guess_extension(str(ev["media_type"])) or ".bin"
            ev["file"] = f"files/{ev['sha256']}{ext}"
            files[ev["file"]] = data
    held = [ev for ev in record["evidence"] if ev["file"]]
    with p.store.begin() as conn:
        for ev in held:
            custody.record_event(
                conn, p.audit, ev["id"], "export", ctx.actor.name, ev["sha256"], f"{purpose} ({package_id})"
            )
        details = {
            "package": package_id,
            "evidence_sha256": sorted({ev["sha256"] for ev in held}),
            "acts": len(record["acts"]),
            "purpose": purpose,
        }
        package_seq = p.audit.append(
            conn, ctx.actor.name, "evidence.package", "incident", incident_id, details
        )
        p.audit.checkpoint(conn)
    with p.store.read() as conn:
        entries: dict[str, str] = {}
        for ev in held:
            ev["custody"] = custody.custody_events(conn, ev["id"])
            for entry in p.audit.entries_for(conn, "evidence", ev["id"]):
                entries[str(entry.seq)] = _entry_text(conn, entry.seq)
        entries[str(package_seq)] = _entry_text(conn, package_seq)
        proofs = p.audit.proofs(conn, [int(s) for s in entries])
    created = utc_naive().isoformat() + "Z"
    record.update(package_id=package_id, created_at=created, created_by=ctx.actor.name)
    content: dict[str, bytes] = {"record.json": _json(record)}
    content.update(files)
    for ev in held:
        content[f"custody/{ev['id']}.json"] = _json({"evidence_id": ev["id"], "events": ev["custody"]})
    content["proofs.json"] = _json({**proofs, "entries": entries})
    content["dossier.html"] = dossier.dossier_html(record).encode()
    pdf = dossier.dossier_pdf(record)
    if pdf is not None:
        content["dossier.pdf"] = pdf
    content["verify_package.py"] = Path(verify_package.__file__).read_bytes()
    manifest = {
        "format": FORMAT,
        "version": 1,
        "package_id": package_id,
        "incident_id": incident_id,
        "created_at": created,
        "created_by": ctx.actor.name,
        "audit_seq": package_seq,
        "files": {
            path: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            for path, data in sorted(content.items())
        },
        "evidence": [
            {
                "id": ev["id"],
                "sha256": ev["sha256"],
                "file": ev["file"],
                "custody": f"custody/{ev['id']}.json",
            }
            for ev in held
        ],
    }
    manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True).encode()
    signature = p.audit.key.private.sign(manifest_bytes)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", manifest_bytes)
        z.writestr(
            "signature.json",
            _json(
                {
                    "signature": base64.b64encode(signature).decode(),
                    "verifier_key": p.audit.key.verifier_key,
                    "signed": "manifest.json",
                }
            ),
        )
        for path, data in sorted(content.items()):
            z.writestr(path, data)
    tmp.replace(out)
    return manifest


def _entry_text(conn: Connection, seq: int) -> str:
    """The exact canonical bytes of audit entry `seq` (the Merkle leaf input), as ASCII text."""
    data = conn.execute(select(_ENTRY.c.entry).where(_ENTRY.c.seq == seq)).scalar_one()
    return bytes(data).decode("ascii")


def _json(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True, default=_default).encode()


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat() + "Z"
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(type(value).__name__)
