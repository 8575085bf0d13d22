"""How the auto_tagging threshold trades right tags for wrong ones, on corpus photos labelled by eye.

For each threshold: how many tags get applied, what share of them is right (precision), and how many
photos get at least one right tag. The labels below are what a person looking at each photo accepts
as a true description (a synonym or a broader word counts; a wrong object does not). This is what
catalog.store.DEFAULT_AUTO_TAGGING was chosen from. Usage:
    .venv/bin/python bench/tagging_thresholds.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.analysis.decode import decode_image
from app.core.analysis.efficientnet import Tagger
from app.core.taxonomy import imagenet_labels, tag_parents
from bench._common import CORPUS

DOG = {"dog", "mammal", "animal", *(imagenet_labels()[i] for i in tag_parents()["dog"])}
CAT = {"cat", "mammal", "animal", "egyptian cat", "tiger cat", "tabby", "persian cat", "siamese cat"}
SUIT = {"clothing", "suit", "person", "windsor tie", "bow tie", "groom"}
TRUTH: dict[str, set[str]] = {
    "dupes/g01_chelsea.jpg": CAT,
    "dupes/g02_coffee.jpg": {"drink", "food", "espresso", "coffee", "cup", "coffee mug"},
    "dupes/g03_rocket.jpg": {"missile", "projectile", "vehicle", "space shuttle"},
    "dupes/g05_motorcycle_left.jpg": {"vehicle", "motorcycle", "moped", "motor scooter"},
    "dupes/g07_camera.jpg": {"tripod", "camera", "person"},
    "dupes/g08_moon.jpg": {"moon", "sky"},
    "dupes/g12_china.jpg": {"building", "palace", "pagoda", "monastery", "bell cote"},
    "dupes/g13_flower.jpg": {"daisy", "plant", "flower"},
    "dupes/g14_grace_hopper.jpg": {"clothing", "military uniform", "headwear", "person", "mortarboard"},
    "dupes/g22_goldfish.jpg": {"goldfish", "fish", "animal"},
    "faces/kpa_donna.jpg": DOG,
    "faces/kpa_donna_2.jpg": DOG,
    "faces/kpa_grand_canyon_3.jpg": {"landscape", "cliff", "promontory", "valley", "canyon", "mountain"},
    "faces/kpa_pool.jpg": {"pool table", "furniture"},
    "faces/kpa_sunset.jpg": {"landscape", "volcano", "mountain", "sky", "seashore", "water"},
    "faces/kpa_skagen.jpg": {"landscape", "water", "beach", "breakwater", "seashore", "lakeside"},
    "faces/obama.jpg": SUIT,
    "faces/biden.jpg": SUIT,
    "formats/heic_pug.heic": DOG,
}
THRESHOLDS = (0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6)


def main() -> None:
    tagger = Tagger()
    found = {rel: tagger.tag(decode_image((CORPUS / rel).read_bytes()).image).tags for rel in TRUTH}
    print(f"{len(TRUTH)} photos labelled by eye")
    print("threshold  applied  right  precision  photos with a right tag")
    for t in THRESHOLDS:
        applied = [(rel, name) for rel, tags in found.items() for name, c in tags if c >= t]
        right = [(rel, name) for rel, name in applied if name in TRUTH[rel]]
        covered = len({rel for rel, _ in right})
        precision = len(right) / len(applied) if applied else 1.0
        print(f"{t:9.2f}  {len(applied):7d}  {len(right):5d}  {precision:9.2f}  {covered:3d}/{len(TRUTH)}")
    wrong = sorted({name for rel, tags in found.items() for name, c in tags if c >= 0.35 and name not in TRUTH[rel]})
    print("wrong tags at 0.35:", ", ".join(wrong) or "none")


if __name__ == "__main__":
    main()
