"""Grouping at library scale: group_faces on 100k synthetic face descriptors, timed.

The descriptors imitate dlib's: persons are random points (pairwise ~1.0 apart, as different
people are), a person's faces scatter around it (~0.45 apart, as the same person's are), and the
number of faces per person is heavy-tailed (a few family members with thousands of faces, many
people seen once or twice), which is what makes a naive linkage blow up. Prints seconds, groups and
pairwise precision / recall against the persons drawn (sampled pairs).
Usage: .venv/bin/python bench/people_grouping_bench.py [faces]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from app.core.people.grouping import DEFAULT_THRESHOLD, group_faces

DIM = 128


def synthetic(n: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    sizes = np.minimum(rng.zipf(1.6, size=n), 5000)  # faces per person: heavy-tailed, capped
    sizes = sizes[np.cumsum(sizes) <= n]
    sizes = np.append(sizes, n - sizes.sum()) if sizes.sum() < n else sizes
    persons = np.repeat(np.arange(len(sizes)), sizes)
    centres = rng.normal(scale=1.0 / np.sqrt(2 * DIM), size=(len(sizes), DIM))  # ~1.0 apart
    faces = centres[persons] + rng.normal(scale=0.45 / np.sqrt(2 * DIM), size=(n, DIM))  # ~0.45 apart
    return faces.astype(np.float32), persons


def sampled_pairwise(labels: np.ndarray, persons: np.ndarray, samples: int = 2_000_000) -> tuple[float, float]:
    rng = np.random.default_rng(1)
    a = rng.integers(0, len(labels), samples)
    # half the pairs drawn within a person, so that recall is measured on enough same-person pairs
    order = np.argsort(persons, kind="stable")
    starts = np.searchsorted(persons[order], persons[a])
    ends = np.searchsorted(persons[order], persons[a], side="right")
    within = order[starts + (rng.random(samples) * (ends - starts)).astype(np.int64)]
    b = np.where(rng.random(samples) < 0.5, within, rng.integers(0, len(labels), samples))
    keep = a != b
    a, b = a[keep], b[keep]
    same, together = persons[a] == persons[b], labels[a] == labels[b]
    tp = np.sum(same & together)
    return tp / max(np.sum(together), 1), tp / max(np.sum(same), 1)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    vectors, persons = synthetic(n)
    t0 = time.perf_counter()
    c0 = time.process_time()
    labels = group_faces(vectors, DEFAULT_THRESHOLD)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    precision, recall = sampled_pairwise(labels, persons)
    print(f"{n} faces of {persons.max() + 1} persons (largest {np.bincount(persons).max()} faces): "
          f"{labels.max() + 1} groups in {wall:.1f} s ({cpu:.1f} s CPU; shared machine), "
          f"pairwise precision {precision:.3f} recall {recall:.3f} @{DEFAULT_THRESHOLD}")  # fmt: skip


if __name__ == "__main__":
    main()
