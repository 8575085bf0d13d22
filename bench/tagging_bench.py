"""Tagging cost per photo and "similar photos" query cost, measured in one run.

Prints (a) model build time, (b) preprocess ms per photo on working images (corpus photos decoded as
the pipeline does, long side <= 2048), (c) inference ms per photo on one thread (the pipeline's
workers run cv2 single-threaded), (d) photos/s and wall ms per photo with N worker processes
classifying at once (what tagging adds to an import on this machine), (e) ms per cosine top-N query
over 100k random L2-normalized float16 1280-d features. Min and median of repeated runs: other
processes on a shared machine inflate the medians. Usage:
    .venv/bin/python bench/tagging_bench.py [--jobs 2] [--features 100000]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2
import numpy as np
from PIL import Image

from app.core.analysis.decode import DecodeError, decode_image
from app.core.analysis.efficientnet import Tagger, preprocess
from app.core.analysis.tagging import FEATURE_DIM, normalized_f16
from app.core.similar import rank
from bench._common import CORPUS, corpus_images


def timings(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(min, median) milliseconds of `repeat` calls."""
    ms = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - start) * 1000)
    return min(ms), statistics.median(ms)


def working_images(limit: int) -> list[Image.Image]:
    images = []
    for path in corpus_images(CORPUS / "dupes") + corpus_images(CORPUS / "faces"):
        try:
            images.append(decode_image(path.read_bytes()).image)
        except DecodeError:
            continue
        if len(images) == limit:
            break
    return images


_images: list[Image.Image] = []


def _init_worker(encoded: list[bytes]) -> None:
    cv2.setNumThreads(1)  # as the pipeline's workers do
    Tagger.shared()
    _images.extend(decode_image(data).image for data in encoded)


def _worker(rounds: int) -> tuple[int, float, float]:
    start = time.time()
    for _ in range(rounds):
        for image in _images:
            Tagger.shared().classify(image)
    return rounds * len(_images), start, time.time()


def parallel_ms_per_photo(jobs: int, photos: int, rounds: int) -> tuple[float, float]:
    """Wall ms per photo and photos/s with `jobs` processes classifying at once (model build and
    decoding happen in the worker initializer, before the clock)."""
    encoded = [p.read_bytes() for p in corpus_images(CORPUS / "dupes")[:photos]]
    with mp.get_context("spawn").Pool(jobs, _init_worker, (encoded,)) as pool:
        pool.map(_worker, [0] * jobs)  # wait until every worker is initialized
        results = pool.map(_worker, [rounds] * jobs, chunksize=1)
    done = sum(r[0] for r in results)
    wall = max(r[2] for r in results) - min(r[1] for r in results)
    return wall * 1000 / done, done / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--features", type=int, default=100_000)
    parser.add_argument("--photos", type=int, default=24)
    args = parser.parse_args()

    start = time.perf_counter()
    tagger = Tagger()
    print(f"model: read weights + build ONNX + ONNX Runtime session {(time.perf_counter() - start) * 1000:.0f} ms")

    images = working_images(args.photos)
    with Image.open(CORPUS / "dupes" / "g03_rocket.jpg") as rocket:
        large = rocket.convert("RGB").resize((2048, 1365))  # the pipeline's largest working image
    lo, mid = timings(lambda: preprocess(large), 20)
    print(f"preprocess (2048x1365 working image): min {lo:.1f} ms, median {mid:.1f} ms")
    pre = [timings(lambda im=im: preprocess(im), 5) for im in images]
    sizes = f"{min(max(im.size) for im in images)}-{max(max(im.size) for im in images)} px"
    lo, mid = min(p[0] for p in pre), statistics.median(p[1] for p in pre)
    print(f"preprocess ({len(images)} working images, {sizes}): min {lo:.1f} ms, median {mid:.1f} ms")

    batch = preprocess(images[0])
    for threads in (1, cv2.getNumberOfCPUs()):
        cv2.setNumThreads(threads)
        tagger.forward(batch)
        lo, mid = timings(lambda: tagger.forward(batch), 40)
        print(f"inference, {threads} thread(s): min {lo:.1f} ms, median {mid:.1f} ms")
    lo, mid = timings(lambda: [tagger.classify(im) for im in images], 3)
    print(f"preprocess + inference, {threads} thread(s): {mid / len(images):.1f} ms/photo (median)")

    per_photo, rate = parallel_ms_per_photo(args.jobs, min(args.photos, 12), 5)
    print(f"{args.jobs} worker processes, 1 thread each: {per_photo:.1f} ms/photo wall ({rate:.0f} photos/s)")

    rng = np.random.default_rng(0)
    features = np.empty((args.features, FEATURE_DIM), np.float16)
    for s in range(0, args.features, 10_000):
        for i, row in enumerate(rng.standard_normal((min(10_000, args.features - s), FEATURE_DIM), np.float32)):
            features[s + i] = normalized_f16(row)
    queries = iter(rng.standard_normal((30, FEATURE_DIM), dtype=np.float32))
    cv2.setNumThreads(1)
    lo, mid = timings(lambda: rank(features, next(queries), 50), 30)
    print(f"cosine top-50 over {args.features} float16 features: min {lo:.0f} ms, median {mid:.0f} ms per query")


if __name__ == "__main__":
    main()
