"""Analysis throughput on real 12 MP JPEGs: photos per second with every stage, and per stage.

The photos are the corpus' photographs re-encoded at 12 MP (4000x3000, JPEG q90; every file a
different crop/flip, so nothing is cached), made once under the temp dir. Every run uses both cores
(two worker processes) and stores its results in a fresh catalog, as an import does. Prints:
(a) import without analysis (SHA-256, headers, metadata: no pixel decoded), (b) every stage in one
pass (target >= 20 photos/s), (c) the same quick-first, as an import runs it (slow stages deferred
and decoded again), (d) without faces, (e) per-stage CPU ms per photo, (f) peak RSS.

The machine may be shared: each run also prints the CPU time it took (workers and main process)
and the rate that CPU time gives on two idle cores, which moves much less with other load than the
wall-clock rate; the load average is printed with them. Usage:
    .venv/bin/python bench/analyze_bench.py [--photos 200] [--jobs N]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image, ImageOps

from app.core.analysis.pipeline import RunStats, run_tasks
from app.core.analysis.workers import default_processes
from app.core.library import Library
from app.core.records import STAGES, Task
from bench._common import CORPUS, corpus_images, peak_rss_mb

SIZE = (4000, 3000)


def make_photos(target: Path, count: int) -> list[Path]:
    target.mkdir(parents=True, exist_ok=True)
    existing = sorted(target.glob("*.jpg"))
    if len(existing) >= count:
        return existing[:count]
    sources = []
    for p in corpus_images(CORPUS / "dupes") + corpus_images(CORPUS / "faces"):
        with Image.open(p) as im:
            if min(im.size) >= 300 and im.mode in ("RGB", "L"):
                sources.append(p)
    made = []
    for i in range(count):
        src = sources[i % len(sources)]
        variant = i // len(sources)
        with Image.open(src) as im:
            im = ImageOps.exif_transpose(im).convert("RGB")
            if variant % 2:
                im = ImageOps.mirror(im)
            inset = (variant // 2) * 0.02  # a different crop per round
            w, h = im.size
            im = im.crop((int(w * inset), int(h * inset), int(w * (1 - inset)), int(h * (1 - inset))))
            im = ImageOps.fit(im, SIZE, Image.Resampling.BICUBIC)
            out = target / f"photo_{i:04d}.jpg"
            im.save(out, "JPEG", quality=90)
            made.append(out)
    return made


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the worker processes)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclass
class Run:
    label: str
    photos: int
    seconds: float
    cpu: float
    stats: RunStats

    def line(self, cores: int) -> str:
        idle = cores * self.photos / self.cpu
        return (
            f"{self.label:34} {self.photos / self.seconds:6.2f} photos/s   CPU {1000 * self.cpu / self.photos:5.1f} ms "
            f"a photo -> {idle:5.1f} photos/s on {cores} idle cores   failures: {len(self.stats.failed)}"
        )


def pipeline_run(label: str, tasks: list[Task], jobs: int | None, tmp: Path) -> Run:
    with Library.open(tmp / label.replace(" ", "-"), auto_backup=False) as lib:
        tasks = [replace(t, thumbs_dir=str(lib.thumbs_dir)) for t in tasks]
        cpu0, t0 = cpu_seconds(), time.perf_counter()
        stats = run_tasks(tasks, lib.writer, phase="bench", auto_tagging=lib.auto_tagging, processes=jobs)
        seconds = time.perf_counter() - t0
    return Run(label, len(tasks), seconds, cpu_seconds() - cpu0, stats)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "tessera-bench-12mp"))
    args = ap.parse_args()
    cores = args.jobs or default_processes()
    photos = make_photos(Path(args.cache), args.photos)
    # as an import hands them out: its scan already looked for sidecars (none here)
    every = [Task(path=str(p), stages=STAGES, sidecar_scanned=True) for p in photos]
    no_faces = tuple(s for s in STAGES if s != "faces")
    print(f"photos: {len(photos)} x 12 MP JPEG, {cores} worker processes; load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        pipeline_run("warm-up", every[: min(8, len(every))], args.jobs, tmp)  # page cache, first imports
        runs = [
            pipeline_run("(a) import, no analysis", [replace(t, stages=()) for t in every], args.jobs, tmp),
            pipeline_run("(b) every stage, one pass", every, args.jobs, tmp),
            pipeline_run("(c) every stage, quick first", [replace(t, defer_slow=True) for t in every], args.jobs, tmp),
            pipeline_run("(d) every stage but faces", [replace(t, stages=no_faces) for t in every], args.jobs, tmp),
        ]
    for run in runs:
        print(run.line(cores))
    full = runs[1]
    print(f"(b) target: >= 20 photos/s on 2 cores; load average after: {os.getloadavg()}")
    print("(e) per-stage CPU ms per photo, in a worker (one core each), every stage in one pass:")
    for stage, ms in sorted(full.stats.stage_ms.items(), key=lambda kv: -kv[1]):
        print(f"      {stage:12} {ms / max(1, full.stats.done):7.1f}")
    own, child = peak_rss_mb()
    print(f"(f) peak RSS: main {own:.0f} MB, largest worker {child:.0f} MB")


if __name__ == "__main__":
    main()
