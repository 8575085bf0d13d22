"""People at library scale, on synthetic descriptors in a real catalog: grouping 100k faces, placing
one new face, opening the People window. Targets (issue 13): <= 30 s, <= 10 ms, <= 1 s.

The descriptors are bench/people_synthetic.py's (dlib-like distances, Zipf-like identity sizes).
Placing is timed twice: the placer's own step (Placer.place against every person, group and single
face), and the whole run after an analysis stored one new face (update_people with the placer kept
from the run before: finding the new face, placing it, storing the placement through the writer).
Usage: .venv/bin/python bench/people_bench.py [--faces 100000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np

from app.core.analysis.face_vectors import pack
from app.core.catalog import people as catalog
from app.core.catalog.models import Face, FaceVector, Photo, db
from app.core.library import Library
from app.core.people import persons
from bench._common import peak_rss_mb
from bench.people_synthetic import synthetic, timed

FACES_PER_PHOTO = 2
NAMED = 200  # persons the user has named before the new faces arrive
NEW_FACES = 500  # placed one at a time
STORED_ONE_BY_ONE = 40  # of them, placed by update_people after each is stored


def _photo(i: int) -> dict[str, object]:
    name = f"p{i:07d}.jpg"
    return {"path": f"/bench/{name}", "folder": "/bench", "filename": name, "size": 1, "mtime_ns": 1,
            "imported_at": "2024", "updated_at": "2024", "width": 4000, "height": 3000,
            "face_count": FACES_PER_PHOTO}  # fmt: skip


def _face(i: int) -> dict[str, object]:
    return {"photo": 1 + i // FACES_PER_PHOTO, "x": 100, "y": 100, "w": 200, "h": 200, "score": 0.99}


def fill(lib: Library, vectors: np.ndarray, first: int = 0) -> None:
    """Photos, faces and descriptors straight into the catalog (what analysis would store); the
    first face is number `first` (ids follow)."""
    n = len(vectors)

    def write() -> None:
        photos = range(-(-first // FACES_PER_PHOTO), -(-(first + n) // FACES_PER_PHOTO))  # the ones not there yet
        for lo in range(0, len(photos), 5000):
            Photo.insert_many([_photo(i) for i in photos[lo : lo + 5000]]).execute()
        for lo in range(0, n, 5000):
            rows = range(first + lo, first + min(n, lo + 5000))
            Face.insert_many([_face(i) for i in rows]).execute()
            FaceVector.insert_many(
                [{"face": 1 + i, "engine": "synthetic", "vector": pack(vectors[i - first])} for i in rows]
            ).execute()

    lib.writer.call(write)


def _place_stored(lib: Library, new: np.ndarray, first: int) -> np.ndarray:
    """update_people after each new face is stored (one photo each): wall and CPU ms of each run."""
    persons.update_people(lib)  # the run after the naming: loads everything, keeps the placer
    out = []
    for k in range(min(STORED_ONE_BY_ONE, len(new))):
        fill(lib, new[k : k + 1], first + k)
        start, cpu = time.perf_counter(), time.process_time()
        report = persons.update_people(lib)
        out.append(((time.perf_counter() - start) * 1000, (time.process_time() - cpu) * 1000))
        assert report.placed >= 1 and not report.regrouped
    return np.array(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--faces", type=int, default=100_000)
    args = parser.parse_args()
    vectors, _ = synthetic(args.faces + NEW_FACES, np.random.default_rng(13))
    print(f"people_bench: {args.faces:,} synthetic faces (shared machine: timings are noisy)")
    with tempfile.TemporaryDirectory() as tmp, Library.open(Path(tmp) / "lib") as lib:
        timed("fill the catalog", lambda: fill(lib, vectors[: args.faces]))
        _, load_s = timed("load the descriptors (load_vectors)", catalog.load_vectors)
        report, group_s = timed("group every face (update_people: load, group_faces, store)",
                                lambda: persons.update_people(lib, regroup=True))  # fmt: skip
        groups = [s for s in catalog.person_summaries() if s.name is None]
        print(f"    {report.placed:,} faces placed, {len(groups):,} groups, "
              f"{catalog.loose_count():,} faces alone")  # fmt: skip
        for i, g in enumerate(groups[:NAMED]):
            lib.writer.call(lambda g=g, i=i: catalog.name_person(g.id, f"Person {i}"))
        placer, _ = timed(f"index for placing (named {NAMED} persons)", lambda: persons.placer(lib))
        new = vectors[args.faces :]
        times, cpu = [], []
        for k, x in enumerate(new):
            start, cpu_start = time.perf_counter(), time.process_time()
            placer.place(10_000_000 + k, x)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - cpu_start)
        ms, cpu_ms = np.array(times) * 1000, np.array(cpu) * 1000
        print(f"  place one new face: median {np.median(ms):.2f} ms (CPU {np.median(cpu_ms):.2f} ms), p95 "
              f"{np.percentile(ms, 95):.2f} ms ({len(ms)} faces, {len(placer.clusters):,} persons, groups and "
              f"single faces to compare with; target 10 ms)")  # fmt: skip
        runs = _place_stored(lib, new, args.faces)
        print(f"  update_people after one new face was stored: median {np.median(runs[:, 0]):.1f} ms "
              f"(CPU {np.median(runs[:, 1]):.1f} ms), p95 {np.percentile(runs[:, 0], 95):.1f} ms "
              f"({len(runs)} runs; finding it, placing it, the writer's commit)")  # fmt: skip
        timed("a decision: name a group (store, re-place, suggest)",
              lambda: persons.name(lib, groups[NAMED].id, "Someone"))  # fmt: skip
        timed("person_summaries (sidebar and People list)", catalog.person_summaries)
        open_s = _people_window_open(lib)
        own, _ = peak_rss_mb()
        print(f"summary: group {args.faces:,} faces {group_s:.1f} s (target 30), place a face "
              f"{np.median(ms):.1f} ms (target 10; {np.median(runs[:, 0]):.1f} ms with storing it), People "
              f"window {open_s:.2f} s (target 1); load {load_s:.2f} s, peak RSS {own:.0f} MB")  # fmt: skip
        db.close()


def _people_window_open(lib: Library) -> float:
    from PySide6.QtWidgets import QApplication

    from app.gui.people_view import PeopleWindow

    app = QApplication.instance() or QApplication([])
    start, cpu = time.perf_counter(), time.process_time()
    window = PeopleWindow(lib)
    window.show()
    app.processEvents()
    seconds = time.perf_counter() - start
    print(f"  {'People window open (construct, list, first person, shown)':58s} {seconds:8.3f} s  "
          f"(CPU {time.process_time() - cpu:.3f} s)")  # fmt: skip
    window.close()
    app.processEvents()
    return seconds


if __name__ == "__main__":
    main()
