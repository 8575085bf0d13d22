"""Analysis pipeline throughput as a ratio to decode-only throughput, on >= 500 real 12 MP photos.

The photos are the corpus' photographs re-encoded at 12 MP (4000x3000, JPEG q90; every file a
different crop/flip, so nothing is cached), made once under the temp dir. Both runs use both cores
and the same worker pool and decode path. Prints (a) decode-only photos/s, (b) full pipeline
photos/s (every stage, catalog writes included), (c) their ratio, the same without faces,
(d) per-stage ms per photo, (e) peak RSS, and (f) for scale, what decoding every pixel costs (a
plain Pillow decode without draft(), as a tool that does not shrink while decoding pays). Usage:
    .venv/bin/python bench/analyze_bench.py [--photos 500] [--jobs N]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image, ImageOps

from app.core.analysis.pipeline import run_tasks
from app.core.analysis.workers import WorkerPool
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


def full_resolution_decode(path: Path) -> int:
    with Image.open(path) as im:
        im.load()
        return im.width


def pipeline_run(photos: list[Path], stages: tuple[str, ...], jobs: int | None, tmp: Path, name: str):
    with Library.open(tmp / name, auto_backup=False) as lib:
        tasks = [Task(path=str(p), stages=stages, thumbs_dir=str(lib.thumbs_dir)) for p in photos]
        t0 = time.perf_counter()
        stats = run_tasks(tasks, lib.writer, phase="bench", auto_tagging=lib.auto_tagging, processes=jobs)
        return stats, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--photos", type=int, default=500)
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "tessera-bench-12mp"))
    args = ap.parse_args()
    photos = make_photos(Path(args.cache), args.photos)
    n = len(photos)
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        # (a) decode only: read, SHA-256, sniff, decode to the working image; same pool, same path
        tasks = [Task(path=str(p), stages=(), read_metadata=False) for p in photos]
        with WorkerPool(args.jobs) as pool:
            list(pool.run(tasks[: min(8, n)]))  # warm the workers (imports) before timing
            t0 = time.perf_counter()
            decoded = list(pool.run(tasks))
            decode_s = time.perf_counter() - t0
        assert not [o for o in decoded if o.error], "decode failures in bench photos"
        full, full_s = pipeline_run(photos, STAGES, args.jobs, tmp, "full")
        _, no_faces_s = pipeline_run(photos, tuple(s for s in STAGES if s != "faces"), args.jobs, tmp, "nf")
    with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
        t0 = time.perf_counter()
        pool.map(full_resolution_decode, photos, chunksize=4)
        every_pixel_s = time.perf_counter() - t0
    decode_rate, full_rate, nf_rate = n / decode_s, n / full_s, n / no_faces_s
    print(f"photos: {n} x 12 MP JPEG")
    print(f"(a) decode-only:               {decode_rate:6.2f} photos/s")
    print(f"(b) full pipeline (all stages): {full_rate:6.2f} photos/s   failures: {len(full.failed)}")
    print(f"(c) ratio full / decode:        {full_rate / decode_rate:6.3f}   (target >= 0.5)")
    nf_ratio = nf_rate / decode_rate
    print(f"    without faces:              {nf_rate:6.2f} photos/s   ratio {nf_ratio:.3f} (target >= 0.75)")
    print("(d) per-stage ms per photo (in a worker, one core each):")
    for stage, ms in sorted(full.stage_ms.items(), key=lambda kv: -kv[1]):
        print(f"      {stage:12} {ms / max(1, full.done):7.1f}")
    own, child = peak_rss_mb()
    print(f"(e) peak RSS: main {own:.0f} MB, largest worker {child:.0f} MB")
    every_pixel_rate = n / every_pixel_s
    print(
        f"(f) decoding every pixel (no draft), same cores: {every_pixel_rate:6.2f} photos/s; "
        f"the full pipeline runs at {full_rate / every_pixel_rate:.2f}x that"
    )


if __name__ == "__main__":
    main()
