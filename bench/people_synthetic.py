"""Synthetic face descriptors for the people benchmarks, drawn like dlib's: identities ~0.9 apart, a
person's faces ~0.4 apart (Euclidean) in 128 dimensions; a few large identities (family) and a long
tail (Zipf-like sizes), plus 10 % strangers seen once. And the timer both benchmarks print with."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np

T = TypeVar("T")
DIM = 128
CENTRE_SD = 0.9 / np.sqrt(2 * DIM)  # two identities ~0.9 apart
FACE_SD = 0.4 / np.sqrt(2 * DIM)  # two faces of one person ~0.4 apart


def synthetic(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(n descriptors in float32, the identity each was drawn from), shuffled."""
    strangers = n // 10
    # enough ranks that the sizes add up to n (before, 20k ranks fell short at 100k faces and the
    # last identity took the remaining 31k faces)
    sizes = np.maximum(2, (2000 / np.arange(1, n + 2) ** 0.9).astype(int))
    sizes = sizes[: np.searchsorted(np.cumsum(sizes), n - strangers) + 1]
    sizes[-1] -= sizes.sum() - (n - strangers)
    centres = rng.normal(0, CENTRE_SD, (len(sizes) + strangers, DIM))
    owner = np.concatenate([np.repeat(np.arange(len(sizes)), sizes), len(sizes) + np.arange(strangers)])
    vectors = centres[owner] + rng.normal(0, FACE_SD, (n, DIM))
    order = rng.permutation(n)
    return vectors[order].astype(np.float32), owner[order]


def timed(label: str, fn: Callable[[], T]) -> tuple[T, float]:
    """Run fn, print its wall and CPU time (this process, all threads: the catalog writer's too; on
    a loaded machine the CPU time is the steadier figure); returns (its value, wall seconds)."""
    start, cpu = time.perf_counter(), time.process_time()
    value = fn()
    seconds, cpu_s = time.perf_counter() - start, time.process_time() - cpu
    print(f"  {label:58s} {seconds:8.3f} s  (CPU {cpu_s:.3f} s)")
    return value, seconds
