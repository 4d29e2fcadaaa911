"""Evidence metadata near incidents: phone videos and photos, CCTV segments, some decoys."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from svidok.demo import data
from svidok.demo.ids import Batch, Ids
from svidok.demo.scenario import IncidentPlan
from svidok.demo.truth import Truth
from svidok.demo.world import PROTEST_SITES, UTC_SHIFT, PlaceInfo, World

MEAN_ITEMS = {
    "dispersal": 1.4,
    "killing": 2.0,
    "disappearance": 0.8,
    "transport": 0.3,
    "facility": 0.15,
    "station": 0.1,
    "court": 0.05,
}
DECOY_RATE = 0.05


class EvidenceMaker:
    def __init__(self, rng: random.Random, ids: Ids, world: World, truth: Truth) -> None:
        self.rng, self.ids, self.world, self.truth = rng, ids, world, truth
        misc = data.misc()
        self.phones: list[str] = misc["phones"]
        self.cctv: list[str] = misc["cctv"]
        self.collectors: list[str] = misc["collectors"]
        self.sites = [p for p in world.places.values() if p.kind in PROTEST_SITES]

    def write(self, plan: IncidentPlan, sources: list[str], batch: Batch) -> None:
        rng = self.rng
        mean = MEAN_ITEMS[plan.kind]
        for _ in range(sum(rng.random() < mean / 3 for _ in range(3))):
            source = rng.choice(sources) if sources and rng.random() < 0.4 else None
            self._item(plan.start, plan.end, plan.place, source, plan.id, batch)
        if rng.random() < DECOY_RATE * mean:
            day = rng.choice(self.world.days)
            start = day + timedelta(hours=rng.randint(8, 23), minutes=rng.randrange(60)) - UTC_SHIFT
            self._item(start, start + timedelta(minutes=30), rng.choice(self.sites), None, None, batch)

    def _item(
        self,
        start: datetime,
        end: datetime,
        place: PlaceInfo,
        source: str | None,
        incident_id: str | None,
        batch: Batch,
    ) -> None:
        rng = self.rng
        kind = rng.choices(("video", "photo", "cctv"), (55, 25, 20))[0]
        span = max(1, int((end - start).total_seconds()))
        at = start + timedelta(seconds=rng.randrange(-300, span))
        length = timedelta(
            seconds=rng.randint(8, 300)
            if kind == "video"
            else 0
            if kind == "photo"
            else rng.choice((600, 900, 1800))
        )
        time_basis = "metadata" if kind == "cctv" or rng.random() < 0.8 else "asserted"
        if time_basis == "asserted":
            at = at.replace(minute=(at.minute // 30) * 30, second=0) + timedelta(minutes=rng.randint(-45, 45))
        gps = kind != "cctv" and rng.random() < 0.7
        spread = 0.0015 if gps else 0.0006
        lat = round(place.lat + rng.uniform(-spread, spread), 6) if place.lat else None
        lon = round(place.lon + rng.uniform(-spread, spread), 6) if place.lon else None
        place_basis = "metadata" if gps else "asserted"
        if place_basis == "asserted" and kind != "cctv" and rng.random() < 0.5:
            lat = lon = None
        local = at + UTC_SHIFT
        if kind == "cctv":
            n = rng.randint(1, 99)
            device, media = rng.choice(self.cctv).format(n=n), "video/mp4"
            name = f"cam{n:02d}_{local:%Y%m%d_%H%M}.mp4"
            size = rng.randint(50, 900) * 1_000_000
        else:
            device = rng.choice(self.phones)
            apple = device.startswith("iPhone")
            media = (
                ("video/quicktime" if apple else "video/mp4")
                if kind == "video"
                else ("image/heic" if apple else "image/jpeg")
            )
            ext = {"video/quicktime": "MOV", "video/mp4": "mp4", "image/heic": "HEIC", "image/jpeg": "jpg"}[
                media
            ]
            stem = "VID" if kind == "video" else "IMG"
            name = f"IMG_{rng.randint(1000, 9999)}.{ext}" if apple else f"{stem}_{local:%Y%m%d_%H%M%S}.{ext}"
            size = rng.randint(5, 400) * 1_000_000 if kind == "video" else rng.randint(1_000_000, 6_000_000)
        evidence_id = self.ids.new("evidence")
        batch.add(
            "evidence",
            {
                "id": evidence_id,
                "source_id": source,
                "media_type": media,
                "original_name": name,
                "size_bytes": size,
                "sha256": f"{rng.getrandbits(256):064x}",
                "capture_start": at.replace(microsecond=0),
                "capture_end": (at + length).replace(microsecond=0),
                "capture_time_basis": time_basis,
                "lat": lat,
                "lon": lon,
                "place_id": place.id if place_basis == "asserted" else None,
                "capture_place_basis": place_basis,
                "device": device,
                "collector": rng.choice(self.collectors),
                "received_at": (at + timedelta(days=rng.randint(0, 60), hours=rng.randint(1, 23))).replace(
                    microsecond=0
                ),
                "description": None,
            },
        )
        self.truth.evidence(evidence_id, incident_id)
