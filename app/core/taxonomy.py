"""The tag vocabulary: ImageNet's class names and the parent tags people search for (dog, animal,
food, vehicle, ...) with the classes under each, from resources/ (made by scripts/build_tag_tree.py).
Read by the tagger and by the sidebar's tag tree."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

RESOURCES = Path(__file__).resolve().parents[2] / "resources"


@functools.cache
def imagenet_labels() -> tuple[str, ...]:
    return tuple(json.loads((RESOURCES / "imagenet_labels.json").read_text(encoding="utf-8")))


@functools.cache
def tag_parents() -> dict[str, np.ndarray]:
    data = json.loads((RESOURCES / "tag_parents.json").read_text(encoding="utf-8"))
    return {name: np.asarray(indices, dtype=np.intp) for name, indices in data.items()}
