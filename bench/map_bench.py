"""The offline map with 100k geotagged photos: frame times while panning at world, country and city
scale (the issue's target: p95 <= 16 ms), and the first frame (outlines and clusters built).

    .venv/bin/python bench/map_bench.py [--photos 100000] [--frames 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from PySide6.QtWidgets import QApplication

from app.core.places.clusters import Markers
from app.gui.map_view import MapView
from bench.geo_sample import sample_positions

VIEWS = (
    ("world", 2.0, (0.5, 0.4)),
    ("country (France)", 6.0, (0.5065, 0.352)),
    ("city (Paris)", 12.0, (0.50653, 0.3522)),
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--frames", type=int, default=200)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv)
    lat, lon = sample_positions(args.photos)
    start = time.perf_counter()
    view = MapView()
    view.resize(1200, 800)
    view.show()
    view.set_markers(Markers(np.arange(args.photos), lat, lon))
    view.fit()
    app.processEvents()
    print(f"{args.photos:,} photos; first frame (outlines loaded, clusters built): {time.perf_counter() - start:.2f} s")
    for name, zoom, center in VIEWS:
        view.zoom, view.center = zoom, center
        view.update()
        app.processEvents()  # the zoom's outlines and clusters, once
        wall, cpu = [], []
        for frame in range(args.frames):
            step = 9 if (frame // 50) % 2 == 0 else -9  # back and forth, as a hand drags
            t, c = time.perf_counter(), time.process_time()
            view.pan_by(step, step / 3)
            app.processEvents()  # the paint
            wall.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        # CPU time too: on a busy machine the wall clock also counts the time other processes had the core
        print(f"panning at {name:17} (zoom {zoom:4.1f}): wall mean {statistics.mean(wall):5.1f} ms, "
              f"p95 {_p95(wall):5.1f} ms; CPU mean {statistics.mean(cpu):5.1f} ms, p95 {_p95(cpu):5.1f} ms "
              "(target p95 16 ms)")  # fmt: skip


def _p95(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.95) - 1]


if __name__ == "__main__":
    main()
