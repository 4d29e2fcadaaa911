"""The incremental property: after ~1% of changes, the next backup writes about 1% of the bytes."""

from __future__ import annotations

import random
from pathlib import Path

from sqlalchemy import select, update

from svidok.backup.repo import Repository, new_identity_file
from svidok.backup.targets import DirTarget
from svidok.services import backup as service
from svidok.services.evidence import EvidenceService
from svidok.store.models import Base

from .conftest import make_register

_SOURCE = Base.metadata.tables["source"]


def test_second_backup_after_one_percent_of_changes_writes_about_one_percent(tmp_path: Path) -> None:
    reg = make_register(tmp_path / "reg", scale=120, blob_size=(1_500_000, 2_500_000))
    p = reg.protection
    target = DirTarget(tmp_path / "repo")
    recipient = new_identity_file(tmp_path / "custodian.key")
    first = service.create(p, reg.settings, [target], "op", reg.blobs, recipients=[recipient])
    total = first.bytes_read
    assert first.targets[0].bytes_written >= total  # the first backup sends everything

    # ~1% of changes: new evidence worth 1% of the register's bytes, and 1% of the sources edited.
    rng = random.Random(9)
    new_file = tmp_path / "new-video.mp4"
    new_file.write_bytes(rng.randbytes(total // 100))
    EvidenceService(p, reg.blobs).add(new_file, "intake-operator")
    with p.store.begin() as conn:
        ids = [r[0] for r in conn.execute(select(_SOURCE.c.id).order_by(_SOURCE.c.id))]
        for source_id in rng.sample(ids, max(1, len(ids) // 100)):
            conn.execute(update(_SOURCE).where(_SOURCE.c.id == source_id).values(reliability="B"))

    second = service.create(p, reg.settings, [target], "op", reg.blobs)
    written = second.targets[0].bytes_written
    ratio = written / second.bytes_read
    print(  # noqa: T201 - the figure is the point
        f"\nregister {second.bytes_read:,} bytes; first backup wrote {first.targets[0].bytes_written:,}; "
        f"after 1% of changes the second wrote {written:,} = {ratio:.2%}"
    )
    assert 0.009 <= ratio <= 0.03, ratio

    third = service.create(p, reg.settings, [target], "op", reg.blobs)  # nothing changed but the audit log
    # The index and the key bundle are written whole with every snapshot (the bundle holds one key
    # per subject since personal fields are sealed per record); the packs hold what changed.
    body = Repository.open(target).manifest(third.snapshot).body
    packs_written = third.targets[0].bytes_written - body["index"]["size"] - body["keys"]["size"]
    assert packs_written / third.bytes_read < 0.005
    p.close()
