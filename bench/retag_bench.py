"""Re-tagging a whole library when the auto_tagging threshold changes: no model run, only the stored
categorizations. Builds a synthetic catalog (N photos, each with a classifier record of 8 matches
and a face record), then times retag_library at a few thresholds and prints the ratio to what
re-running the model would cost (bench/tagging_bench.py: ~15 ms/photo wall on this machine).

    .venv/bin/python bench/retag_bench.py [--photos 100000]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.analysis.tagging import face_tags
from app.core.catalog.models import AUTO, Categorization, Photo, PhotoTag, db
from app.core.library import Library
from app.core.records import FACE_ENGINE
from app.core.records import TAG_ENGINE as ENGINE
from app.core.tags import retag_library
from app.core.taxonomy import imagenet_labels

MODEL_MS_PER_PHOTO = 15.0


def build(n: int) -> None:
    rng = random.Random(3)
    labels = imagenet_labels()
    now = "2026-01-01T00:00:00"
    photos, records = [], []
    for i in range(1, n + 1):
        photos.append({"id": i, "path": f"/p/{i}.jpg", "folder": "/p", "filename": f"{i}.jpg", "size": 1,
                       "mtime_ns": i, "status": "ok", "imported_at": now, "updated_at": now})  # fmt: skip
        confidences = sorted((rng.random() ** 2 for _ in range(8)), reverse=True)
        data = [{"tag": rng.choice(labels), "confidence": round(c, 4)} for c in confidences]
        records.append({"photo": i, "engine": ENGINE, "status": "complete", "data_json": json.dumps(data)})
        faces = [{"tag": t, "confidence": c} for t, c in face_tags(rng.choice([0, 0, 1, 2, 5]))]
        records.append({"photo": i, "engine": FACE_ENGINE, "status": "complete", "data_json": json.dumps(faces)})
    with db.atomic():
        for s in range(0, n, 5000):
            Photo.insert_many(photos[s : s + 5000]).execute()
        for s in range(0, len(records), 5000):
            Categorization.insert_many(records[s : s + 5000]).execute()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--photos", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Library.open(Path(tmp) / "lib") as lib:
        start = time.perf_counter()
        lib.writer.call(lambda: build(args.photos))
        print(f"built {args.photos} photos with categorizations in {time.perf_counter() - start:.1f} s")
        model_s = args.photos * MODEL_MS_PER_PHOTO / 1000
        for threshold in (0.3, 0.6, 0.1):
            start = time.perf_counter()
            retag_library(lib, threshold)
            seconds = time.perf_counter() - start
            applied = PhotoTag.select().where(PhotoTag.source == AUTO).count()
            print(f"threshold {threshold}: {seconds:.1f} s, {applied} auto tags; "
                  f"re-running the model would take ~{model_s / 60:.0f} min ({model_s / seconds:.0f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
