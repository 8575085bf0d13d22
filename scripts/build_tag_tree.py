"""Generate resources/imagenet_labels.json and resources/tag_parents.json from WordNet 3.0.

Run once; the JSON files are committed. Inputs (neither is needed at run time):
- the 1000 ImageNet-1k class ids in class-index order (sorted wnids, e.g. n02084071), one a line:
  `timm` ships them as timm/data/_info/imagenet_synsets.txt (pip install --no-deps timm into a
  throwaway venv and pass --synsets; made with timm 1.0.31, Apache-2.0);
- WordNet 3.0 noun database (Debian: apt-get install wordnet-base -> /usr/share/wordnet/data.noun;
  made with 1:3.0-37, WordNet licence).
  ImageNet wnids are 'n' + the 8-digit WordNet 3.0 noun offset.

Labels are the first WordNet lemma of each class, lowercased, underscores as spaces. A parent tag
holds every class that has one of its root synsets among its hypernyms (instance hypernyms too).
Every root is written as lemma:offset and checked against WordNet, so a wrong offset fails loudly.

    python scripts/build_tag_tree.py \
        --synsets /tmp/refvenv/lib/python3.11/site-packages/timm/data/_info/imagenet_synsets.txt
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA_NOUN = Path("/usr/share/wordnet/data.noun")

PARENTS: dict[str, list[str]] = {
    # living things
    "animal": ["animal:00015388"],
    "mammal": ["mammal:01861778"],
    "dog": ["dog:02084071"],
    "cat": ["cat:02121620"],
    "big cat": ["big_cat:02127808"],
    "wolf": ["wolf:02114100"],
    "fox": ["fox:02118333"],
    "bear": ["bear:02131653"],
    "primate": ["primate:02469914"],
    "monkey": ["monkey:02484322"],
    "rodent": ["rodent:02329401"],
    "horse": ["horse:02374451"],
    "bird": ["bird:01503061"],
    "fish": ["fish:02512053"],
    "shark": ["shark:01482330"],
    "reptile": ["reptile:01661091"],
    "snake": ["snake:01726692"],
    "lizard": ["lizard:01674464"],
    "turtle": ["turtle:01662784"],
    "amphibian": ["amphibian:01627424"],
    "insect": ["insect:02159955"],
    "butterfly": ["butterfly:02274259"],
    "spider": ["spider:01772222"],
    "crustacean": ["crustacean:01974773"],
    "mollusk": ["mollusk:01940736"],
    "person": ["person:00007846"],
    "plant": ["plant:00017222"],
    "flower": ["flower:11669921", "flower:11669335"],
    "fungus": ["fungus:12992868"],
    # food and drink
    "food": ["food:00021265", "food:07555863"],
    "fruit": ["edible_fruit:07705931", "fruit:13134947"],
    "vegetable": ["vegetable:07707451"],
    "dish": ["dish:07557434"],
    "dessert": ["dessert:07609840"],
    "bread": ["bread:07679356"],
    "drink": ["beverage:07881800"],
    "coffee": ["coffee:07929519"],
    # vehicles
    "vehicle": ["vehicle:04524313"],
    "car": ["car:02958343"],
    "truck": ["truck:04490091"],
    "bus": ["bus:02924116"],
    "train": [
        "train:04468005",
        "locomotive:03684823",
        "passenger_car:03895866",
        "freight_car:03393912",
        "streetcar:04335435",
    ],
    "bicycle": ["bicycle:02834778"],
    "motorcycle": ["motorcycle:03790512", "motor_scooter:03791053"],
    "boat": ["boat:02858304", "ship:04194289"],
    "aircraft": ["aircraft:02686568"],
    "spacecraft": ["spacecraft:04264914"],
    # places and structures
    "building": ["building:02913152"],
    "bridge": ["bridge:02898711"],
    "shop": ["mercantile_establishment:03748162"],
    "landscape": ["geological_formation:09287968"],
    "mountain": ["mountain:09359803"],
    "beach": ["shore:09433442", "sandbar:09421951"],
    "water": ["shore:09433442", "sandbar:09421951", "coral_reef:09256479", "geyser:09288635", "vessel:04530566"],
    # things
    "musical instrument": ["musical_instrument:03800933"],
    "furniture": ["furniture:03405725"],
    "clothing": ["clothing:03051540"],
    "footwear": ["footwear:03381126", "footwear:03380867"],
    "headwear": ["headdress:03502509"],
    "jewelry": ["jewelry:03597469"],
    "timepiece": ["timepiece:04437953"],
    "ball": ["ball:02778669"],
    "toy": ["toy:03964744"],
    "tool": ["tool:04451818"],
    "weapon": ["weapon:04565375"],
    "computer": ["computer:03082979"],
    "electronics": ["electronic_equipment:03278248"],
    "appliance": ["home_appliance:03528263"],
    "sports equipment": ["sports_equipment:04285146"],
}


def read_wordnet(path: Path) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """offset -> lemmas, offset -> hypernym offsets (plain and instance)."""
    lemmas: dict[str, list[str]] = {}
    hypernyms: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(" "):  # licence header
            continue
        fields = line.split(" | ", 1)[0].split()
        offset, n_words = fields[0], int(fields[3], 16)
        lemmas[offset] = fields[4 : 4 + 2 * n_words : 2]
        pos = 4 + 2 * n_words
        n_ptrs = int(fields[pos])
        ptrs = [fields[pos + 1 + 4 * i : pos + 5 + 4 * i] for i in range(n_ptrs)]
        hypernyms[offset] = [target for symbol, target, kind, _ in ptrs if symbol in ("@", "@i") and kind == "n"]
    return lemmas, hypernyms


def ancestors(offset: str, hypernyms: dict[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    stack = [offset]
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(hypernyms.get(current, []))
    return seen


def clean(lemma: str) -> str:
    return lemma.replace("_", " ").lower()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--synsets", type=Path, required=True, help="ImageNet-1k wnids in class order")
    parser.add_argument("--wordnet", type=Path, default=DATA_NOUN, help="WordNet 3.0 data.noun")
    parser.add_argument("--out", type=Path, default=ROOT / "resources")
    args = parser.parse_args()

    wnids = args.synsets.read_text(encoding="utf-8").split()
    if len(wnids) != 1000 or wnids != sorted(wnids):
        raise SystemExit("expected the 1000 ImageNet-1k wnids in sorted (class index) order")
    lemmas, hypernyms = read_wordnet(args.wordnet)
    offsets = [wnid.removeprefix("n") for wnid in wnids]
    labels = [clean(lemmas[offset][0]) for offset in offsets]
    lineage = [ancestors(offset, hypernyms) for offset in offsets]

    parents: dict[str, list[int]] = {}
    for tag, roots in PARENTS.items():
        root_offsets = set()
        for root in roots:
            lemma, offset = root.split(":")
            if lemma.lower() not in (w.lower() for w in lemmas.get(offset, [])):
                raise SystemExit(f"{tag}: WordNet synset {offset} is {lemmas.get(offset)}, not {lemma}")
            root_offsets.add(offset)
        members = [i for i, line in enumerate(lineage) if line & root_offsets]
        if not members:
            raise SystemExit(f"{tag}: no ImageNet class under {roots}")
        parents[tag] = members

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "imagenet_labels.json").write_text(json.dumps(labels, indent=0) + "\n", encoding="utf-8")
    (args.out / "tag_parents.json").write_text(
        "{\n" + ",\n".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in parents.items()) + "\n}\n",
        encoding="utf-8",
    )
    for tag, members in parents.items():
        print(f"{tag:20s} {len(members):4d}  e.g. {', '.join(labels[i] for i in members[:4])}")


if __name__ == "__main__":
    main()
