"""Places at scale: 100k geotagged photos (synthetic rows placed around GeoNames towns in proportion
to their population) in a fresh library. Prints the places stage's time (target: 100k in <= 10 s,
data loading included) and `--near` / `--place` query latencies (target <= 50 ms at 100k).

    .venv/bin/python bench/places_bench.py [--photos 100000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.catalog import queries
from app.core.catalog.models import Photo, db
from app.core.library import Library
from bench.geo_sample import sample_positions

QUERIES = (
    ("near 1 km (Paris)", queries.Filter(near=(48.8584, 2.2945, 1.0))),
    ("near 25 km (Paris)", queries.Filter(near=(48.8584, 2.2945, 25.0))),
    ("near 500 km (Tokyo)", queries.Filter(near=(35.68, 139.76, 500.0))),
    ("near 100 km across 180° (Fiji)", queries.Filter(near=(-16.8, -179.99, 100.0))),
    ("near 5000 km (Atlantic)", queries.Filter(near=(30.0, -40.0, 5000.0))),
    ("place: a country (France)", queries.Filter(place="France")),
    ("place: a city (Tokyo)", queries.Filter(place="Tokyo")),
    ("free text 'paris'", queries.Filter(text="paris")),
)


def build(n: int) -> None:
    lat, lon = sample_positions(n, seed=1)
    now = "2026-01-01T00:00:00"
    rows = [{"path": f"/photos/IMG_{i:06d}.jpg", "folder": "/photos", "filename": f"IMG_{i:06d}.jpg", "size": 1,
             "mtime_ns": i, "status": "ok", "imported_at": now, "updated_at": now,
             "gps_lat": float(lat[i]), "gps_lon": float(lon[i])} for i in range(n)]  # fmt: skip
    with db.atomic():
        for start in range(0, n, 2000):
            Photo.insert_many(rows[start : start + 2000]).execute()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Library.open(Path(tmp) / "lib") as lib:
        build(args.photos)
        start, cpu = time.perf_counter(), time.process_time()
        named = lib.locate_places()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        # CPU time too: on a busy machine the wall clock also counts the time other processes had the core
        print(f"places stage: {named:,} photos in {seconds:.1f} s wall, {cpu:.1f} s CPU (target 100k in 10 s), "
              "GeoNames and Natural Earth loading included")  # fmt: skip
        start = time.perf_counter()
        again = lib.locate_places()
        print(f"again (nothing to do): {again} photos in {(time.perf_counter() - start) * 1000:.0f} ms")
        db.execute_sql("ANALYZE")
        for label, f in QUERIES:
            wall, cpu_ms, found = [], [], 0
            for _ in range(7):
                t, c = time.perf_counter(), time.process_time()
                found = len(queries.search_ids(f))
                wall.append((time.perf_counter() - t) * 1000)
                cpu_ms.append((time.process_time() - c) * 1000)
            print(f"{label:28} {found:7,} photos: median {statistics.median(wall):6.1f} ms wall, "
                  f"{statistics.median(cpu_ms):6.1f} ms CPU (target 50 ms)")  # fmt: skip


if __name__ == "__main__":
    main()
