"""Content tags from the ImageNet classifier's probabilities, as people search for them.

ImageNet's 1000 classes are too specific ("golden retriever"), so parent tags (dog, animal, food,
vehicle, landscape, ...) get the summed probability of their classes through a WordNet-derived map
(resources/tag_parents.json, made by scripts/build_tag_tree.py). The face detector adds person,
people, portrait and group as a second engine. The network itself is in `efficientnet`.

The default auto_tagging threshold (catalog.store.DEFAULT_AUTO_TAGGING) is explained there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.core.taxonomy import imagenet_labels, tag_parents

TAGGER_VERSION = 1
MIN_CONFIDENCE = 0.05
# A 1000-way softmax leaves ~0.1 % on every class; summed over the 398 animal classes that noise
# alone would make "animal" a tag of every photo. Parents add up only children at least this sure.
CHILD_FLOOR = 0.01
MAX_TAGS = 20
FEATURE_DIM = 1280
# Tags from the face detector. At its default threshold it found 42 faces and 2 false ones in the 55
# photos of corpus/faces (bench/faces_eval.py): "there is a person" is right ~95 % of the time.
FACE_TAG_CONFIDENCE = 0.9


@dataclass
class TagResult:
    tags: list[tuple[str, float]]  # ranked, confidence >= MIN_CONFIDENCE
    feature: bytes  # FEATURE_DIM float16, unit length


def face_tags(face_count: int | None) -> list[tuple[str, float]]:
    """person/portrait for one face, person/people for two, and group from three on."""
    if not face_count:
        return []
    names = ["person", "portrait"] if face_count == 1 else ["person", "people"] + ["group"] * (face_count >= 3)
    return [(name, FACE_TAG_CONFIDENCE) for name in names]


def tags_from_probs(probs: np.ndarray) -> list[tuple[str, float]]:
    """(tag, confidence) sorted by confidence: ImageNet classes, and parent tags whose confidence is
    the summed probability of their classes."""
    scores: dict[str, float] = {}
    breadth: dict[str, int] = {}  # at equal confidence the narrower tag comes first: cat before animal
    labels = imagenet_labels()
    for i in np.flatnonzero(probs >= CHILD_FLOOR):  # classes sharing a name (e.g. crane) add up
        scores[labels[i]] = scores.get(labels[i], 0.0) + float(probs[i])
    kept = np.where(probs >= CHILD_FLOOR, probs, 0.0)
    for name, indices in tag_parents().items():
        scores[name] = max(scores.get(name, 0.0), float(kept[indices].sum()))
        breadth[name] = len(indices)
    ranked = sorted(
        ((round(min(c, 1.0), 4), n) for n, c in scores.items() if c >= MIN_CONFIDENCE),
        key=lambda t: (-t[0], breadth.get(t[1], 1)),
    )
    return [(name, conf) for conf, name in ranked[:MAX_TAGS]]


def normalized_f16(feature: np.ndarray) -> np.ndarray:
    """The feature as stored for similarity search: unit length, float16 (2.5 KB a photo)."""
    norm = float(np.linalg.norm(feature))
    return (feature / norm if norm > 0 else feature).astype(np.float16)
