"""Grouping at library scale: group_faces on 100k synthetic face descriptors, timed.

The descriptors are bench/people_synthetic.py's (people_bench.py's too): a few family members with
thousands of faces, many people seen once or twice, which is what makes a naive linkage blow up.
Prints seconds (wall and CPU), groups and pairwise precision / recall against the identities drawn
(sampled pairs).
Usage: .venv/bin/python bench/people_grouping_bench.py [faces]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from app.core.people.grouping import DEFAULT_THRESHOLD, group_faces
from bench.people_synthetic import synthetic, timed


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
    vectors, persons = synthetic(n, np.random.default_rng(13))
    print(f"people_grouping_bench: {n:,} faces of {persons.max() + 1:,} identities (largest "
          f"{np.bincount(persons).max():,} faces; shared machine: timings are noisy)")  # fmt: skip
    labels, _ = timed(f"group_faces @{DEFAULT_THRESHOLD}", lambda: group_faces(vectors, DEFAULT_THRESHOLD))
    precision, recall = sampled_pairwise(labels, persons)
    print(f"  {labels.max() + 1:,} groups, pairwise precision {precision:.3f} recall {recall:.3f}")


if __name__ == "__main__":
    main()
