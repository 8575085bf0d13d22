"""People at library scale, on synthetic descriptors in a real catalog: grouping 100k faces, placing
one new face, opening the People window. Targets (issue 13): <= 30 s, <= 10 ms, <= 1 s.

Descriptors are drawn like dlib's: identities ~0.9 apart, a person's faces ~0.4 apart (Euclidean),
in 128 dimensions; a few large identities (family) and a long tail, plus strangers seen once.
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

DIM = 128
CENTRE_SD = 0.9 / np.sqrt(2 * DIM)  # two identities ~0.9 apart
FACE_SD = 0.4 / np.sqrt(2 * DIM)  # two faces of one person ~0.4 apart
FACES_PER_PHOTO = 2
NAMED = 200  # persons the user has named before the new faces arrive
NEW_FACES = 500  # placed one at a time


def synthetic(n: int, rng: np.random.Generator) -> np.ndarray:
    """n descriptors: 10 % strangers, the rest over identities with Zipf-like sizes."""
    strangers = n // 10
    sizes = np.maximum(2, (2000 / np.arange(1, 20_000) ** 0.9).astype(int))
    sizes = sizes[: np.searchsorted(np.cumsum(sizes), n - strangers) + 1]
    sizes[-1] -= sizes.sum() - (n - strangers)
    centres = rng.normal(0, CENTRE_SD, (len(sizes) + strangers, DIM))
    owner = np.concatenate([np.repeat(np.arange(len(sizes)), sizes), len(sizes) + np.arange(strangers)])
    vectors = centres[owner] + rng.normal(0, FACE_SD, (n, DIM))
    return vectors[rng.permutation(n)].astype(np.float32)


def _photo(i: int) -> dict[str, object]:
    name = f"p{i:07d}.jpg"
    return {"path": f"/bench/{name}", "folder": "/bench", "filename": name, "size": 1, "mtime_ns": 1,
            "imported_at": "2024", "updated_at": "2024", "width": 4000, "height": 3000,
            "face_count": FACES_PER_PHOTO}  # fmt: skip


def _face(i: int) -> dict[str, object]:
    return {"photo": 1 + i // FACES_PER_PHOTO, "x": 100, "y": 100, "w": 200, "h": 200, "score": 0.99}


def fill(lib: Library, vectors: np.ndarray) -> None:
    """Photos, faces and descriptors straight into the catalog (what analysis would store)."""
    n = len(vectors)

    def write() -> None:
        for lo in range(0, n // FACES_PER_PHOTO, 5000):
            Photo.insert_many([_photo(i) for i in range(lo, min(n // FACES_PER_PHOTO, lo + 5000))]).execute()
        for lo in range(0, n, 5000):
            rows = range(lo, min(n, lo + 5000))
            Face.insert_many([_face(i) for i in rows]).execute()
            FaceVector.insert_many(
                [{"face": 1 + i, "engine": "synthetic", "vector": pack(vectors[i])} for i in rows]
            ).execute()

    lib.writer.call(write)


def timed(label: str, fn):  # type: ignore[no-untyped-def]
    """Wall and CPU time (this process, all threads: the catalog writer's too). On a loaded machine
    the CPU time is the steadier figure."""
    start, cpu = time.perf_counter(), time.process_time()
    value = fn()
    seconds, cpu_s = time.perf_counter() - start, time.process_time() - cpu
    print(f"  {label:58s} {seconds:8.3f} s  (CPU {cpu_s:.3f} s)")
    return value, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--faces", type=int, default=100_000)
    args = parser.parse_args()
    rng = np.random.default_rng(13)
    vectors = synthetic(args.faces + NEW_FACES, rng)
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
        timed("person_summaries (sidebar and People list)", catalog.person_summaries)
        open_s = _people_window_open(lib)
        own, _ = peak_rss_mb()
        print(f"summary: group {args.faces:,} faces {group_s:.1f} s (target 30), place a face "
              f"{np.median(ms):.1f} ms (target 10), People window {open_s:.2f} s (target 1); "
              f"load {load_s:.2f} s, peak RSS {own:.0f} MB")  # fmt: skip
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
