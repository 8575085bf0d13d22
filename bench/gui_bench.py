"""GUI at scale: a synthetic 100k-photo catalog (rows, EXIF-sized details, palette colors, tags, real thumbnail files)
opened in the main window offscreen. Prints time to first painted grid, filter latency, scroll
frame times, collections (adding 10k photos, opening a 100k-photo collection and a smart
collection over the library) and peak RSS, against the targets in the issues.

    .venv/bin/python bench/gui_bench.py [--photos 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image
from PySide6.QtCore import QEvent, QObject, QSettings
from PySide6.QtWidgets import QApplication

from app.core.analysis.thumbnails import SIZES, thumb_path
from app.core.catalog import queries
from app.core.catalog.models import Photo, PhotoColor, PhotoDetail, PhotoTag, Tag, db
from app.core.catalog.queries import Filter
from app.core.library import Library
from app.core.palette import PALETTE
from bench._common import peak_rss_mb

DISTINCT_THUMBS = 500
CAMERAS = [("Canon", "Canon EOS 5D Mark IV"), ("NIKON CORPORATION", "NIKON D850"), ("SONY", "ILCE-7M3"),
           ("FUJIFILM", "X-T4"), ("Apple", "iPhone 13")]  # fmt: skip
TAGS = ["dog", "cat", "beach", "mountain", "family", "food", "car", "flower", "city", "night"]
# Real photos carry EXIF and color JSON (median ~1.7 KB over corpus/exif): filler of that size, where
# the catalog keeps it (photo_detail), so the catalog is as large as a real library's.
EXIF_FILLER = json.dumps({"image": {f"Tag{i}": "x" * 20 for i in range(25)}})
FLAT_FILLER = json.dumps({f"Tag{i}": "x" * 16 for i in range(22)})
COLORS_FILLER = json.dumps([[f"#{i:06X}", 3.1] for i in range(32)])


def synthetic_rows(n: int, thumb_keys: list[str], tag_ids: list[int]) -> tuple[list[dict], ...]:
    """Rows of `n` photos as an import stores them: (photo, photo_detail, photo_color, photo_tag)."""
    rng = random.Random(7)
    now = "2026-01-01T00:00:00"
    rows, details, colors, tags = [], [], [], []
    for i in range(1, n + 1):
        make, model = rng.choice(CAMERAS)
        year, month, day = rng.randint(2005, 2025), rng.randint(1, 12), rng.randint(1, 28)
        folder = f"/photos/{year}/{month:02d}"
        rows.append({
            "id": i, "path": f"{folder}/IMG_{i:06d}.jpg", "folder": folder, "filename": f"IMG_{i:06d}.jpg",
            "size": rng.randint(2_000_000, 12_000_000), "mtime_ns": i, "status": "ok", "imported_at": now,
            "updated_at": now, "format": "JPEG", "width": 6000, "height": 4000,
            "taken_at": f"{year}-{month:02d}-{day:02d}T12:00:00", "make": make, "model": model,
            "face_count": rng.choice([0, 0, 0, 1, 2, 3, 7]), "thumb_key": thumb_keys[i % len(thumb_keys)],
            "gps_lat": 48.85 if i % 5 == 0 else None, "gps_lon": 2.35 if i % 5 == 0 else None,
            "rating": rng.choice([None, None, 1, 3, 5]), "picked": rng.random() < 0.3,
            "label": rng.choice([None, None, None, "Red", "Green"]),
        })  # fmt: skip
        details.append({"photo": i, "exif_json": EXIF_FILLER, "flat_exif_json": FLAT_FILLER,
                        "colors_json": COLORS_FILLER})  # fmt: skip
        for name, share in zip(rng.sample(PALETTE, 3), (55.0, 30.0, 15.0), strict=True):
            colors.append({"photo": i, "name": name, "share": share})
        if i % 3 == 0:
            tags.append({"photo": i, "tag": rng.choice(tag_ids), "source": "auto", "confidence": 0.8})
    return rows, details, colors, tags


def build_catalog(lib: Library, n: int) -> None:
    rng = random.Random(7)
    keys = []
    for i in range(DISTINCT_THUMBS):
        key = f"{i:064x}"
        color = tuple(rng.randrange(256) for _ in range(3))
        for size in SIZES:
            target = thumb_path(lib.thumbs_dir, key, size)
            target.parent.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (size, size * 2 // 3), color).save(target, quality=85)
        keys.append(key)
    with db.atomic():
        tag_ids = [Tag.create(name=t).id for t in TAGS]
    rows, details, colors, tags = synthetic_rows(n, keys, tag_ids)
    with db.atomic():
        for start in range(0, len(rows), 5000):
            Photo.insert_many(rows[start : start + 5000]).execute()
            PhotoDetail.insert_many(details[start : start + 5000]).execute()
        for start in range(0, len(colors), 10000):
            PhotoColor.insert_many(colors[start : start + 10000]).execute()
        for start in range(0, len(tags), 10000):
            PhotoTag.insert_many(tags[start : start + 10000]).execute()
    db.execute_sql("ANALYZE")


class PaintClock(QObject):
    """Records when the grid's viewport first paints, and counts its paints."""

    def __init__(self) -> None:
        super().__init__()
        self.painted_at: float | None = None
        self.paints = 0

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
            if self.painted_at is None:
                self.painted_at = time.perf_counter()
        return False


def measure_collections(window: Any, lib: Library, n: int) -> dict[str, float]:
    """The three collection answers the organize issue asks for, each until the grid has painted: B on
    10k selected photos (into the target collection), opening a collection of the whole library in
    its own order, and a smart collection (picks with 3+ stars) over the whole library."""
    from app.core import collections

    grid = window.grid.viewport()
    ids = queries.search_ids(Filter())
    target = collections.create(lib, "Bench target")
    collections.set_target(lib, target)
    window.organizer.refresh_sidebar()
    out = {}
    t = time.perf_counter()
    window.organizer.add_photos(target, ids[:10_000])  # what B and a drop onto the sidebar run
    grid.repaint()
    out["add 10k to collection"] = (time.perf_counter() - t) * 1000
    everything = collections.create(lib, "Everything")
    collections.add(lib, everything, list(reversed(ids)))  # its own order: not any index's
    smart = collections.create(lib, "Good picks", kind="smart", saved=Filter(flags=("pick",), min_rating=3))
    for label, cid, expected in (("open 100k collection", everything, n), ("open smart collection", smart, None)):
        t = time.perf_counter()
        window.sidebar_picked("collection", cid)
        grid.repaint()
        out[label] = (time.perf_counter() - t) * 1000
        assert expected is None or window.model.rowCount() == expected, window.model.rowCount()
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--build-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_only:
        with Library.open(args.build_only) as lib:
            build_catalog(lib, args.photos)
        return
    app = QApplication.instance() or QApplication(sys.argv)
    from app.gui.main_window import MainWindow

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        # built in another process, so the peak RSS below is the app's own
        build = [sys.executable, __file__, "--photos", str(args.photos), "--build-only", f"{tmp}/lib"]
        subprocess.run(build, check=True)
        print(f"built a {args.photos:,}-photo catalog in {time.perf_counter() - t0:.1f} s")
        lib = Library.open(Path(tmp) / "lib", auto_backup=False)
        settings = QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat)

        start = time.perf_counter()
        window = MainWindow(lib, settings)
        clock = PaintClock()
        window.grid.viewport().installEventFilter(clock)
        window.show()
        while clock.painted_at is None:
            app.processEvents()
        first_paint = clock.painted_at - start

        filters = [
            Filter(colors=(("blue", 20.0),)), Filter(tags=("dog",)), Filter(camera="Canon", since="2019", until="2019",
            min_faces=1), Filter(text="IMG_0123"), Filter(has_gps=True, min_rating=3), Filter(),
            Filter(colors=(("red", 50.0),), tags=("beach",)), Filter(sort="name", descending=True),
            Filter(since="2010-06", until="2012"), Filter(formats=("JPEG",), max_faces=0),
        ] * 2  # fmt: skip
        filter_ms = []
        for f in filters:
            t = time.perf_counter()
            window.apply_filter(f.with_(statuses=("ok", "error")))
            window.grid.viewport().repaint()
            filter_ms.append((time.perf_counter() - t) * 1000)

        window.apply_filter(Filter(statuses=("ok", "error")))
        bar = window.grid.verticalScrollBar()
        frame_ms = []
        painted_before = clock.paints
        for i in range(300):
            t = time.perf_counter()
            bar.setValue(bar.value() + bar.pageStep() // 3 if i % 50 else bar.maximum() * (i // 50) // 6)
            app.processEvents()  # the scroll's own update: one paint of the viewport, as on screen
            frame_ms.append((time.perf_counter() - t) * 1000)
        paints_per_frame = (clock.paints - painted_before) / len(frame_ms)
        collection_ms = measure_collections(window, lib, args.photos)
        own, _ = peak_rss_mb()
        window.close()
        lib.close()

    print(f"first painted grid:   {first_paint:.2f} s   (target <= 1.5 s)")
    median, p95 = statistics.median(filter_ms), percentile(filter_ms, 0.95)
    print(f"filter latency:       median {median:.0f} ms, p95 {p95:.0f} ms"
          "   (target p95 <= 100 ms)")  # fmt: skip
    print(f"scroll frame time:    mean {statistics.mean(frame_ms):.1f} ms, p95 {percentile(frame_ms, 0.95):.1f} ms"
          f"   (target p95 <= 16 ms; {paints_per_frame:.2f} paints a frame)")  # fmt: skip
    for what, ms in collection_ms.items():
        print(f"{what + ':':22}{ms:.0f} ms   (target <= 300 ms)")
    print(f"peak RSS:             {own:.0f} MB   (target <= 500 MB)")


if __name__ == "__main__":
    main()
