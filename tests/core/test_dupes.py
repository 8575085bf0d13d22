"""The duplicate finder: exact candidate search, chaining guard, decisions, keeper, accuracy on the
corpus read back from a real catalog, and the CLI that trashes the others."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

from app.cli import main
from app.core import dupes
from app.core.catalog import duplicates
from app.core.catalog.models import Photo, TrashRecord
from app.core.library import Library

HARD = {"crop16x9", "heavy"}  # other aspect ratio; gray + quarter size + JPEG 50: not claimed


def _planted(rng: np.random.Generator, n: int, flips: int) -> np.ndarray:
    base = rng.integers(0, 2**63, size=n, dtype=np.int64).astype(np.uint64) * np.uint64(2) + np.uint64(1)
    near = base.copy()
    for i in range(0, n, 3):  # every third hash gets a neighbour `flips` bits away
        for bit in rng.choice(64, size=flips, replace=False):
            near[i] ^= np.uint64(1) << np.uint64(int(bit))
    return np.concatenate([base, near[::3]])


@pytest.mark.parametrize("threshold", [4, 6, 10, 12])
def test_multi_index_search_equals_brute_force(threshold: int) -> None:
    rng = np.random.default_rng(threshold)
    hashes = _planted(rng, 3000, flips=threshold)
    found = {tuple(p) for p in dupes.candidate_pairs(hashes, hashes, threshold).tolist() if p[0] < p[1]}
    xor = hashes[:, None] ^ hashes[None, :]
    dist = dupes.popcount64(xor.reshape(-1)).reshape(xor.shape)
    i, j = np.nonzero(np.triu(dist <= threshold, k=1))
    brute = set(zip(i.tolist(), j.tolist(), strict=True))
    assert len(brute) >= 1000  # the planted neighbours
    assert found == brute


def _hashset(values: list[int]) -> dupes.HashSet:
    orient = np.array([[v] * 8 for v in values], dtype=np.uint64)
    return dupes.HashSet(np.arange(1, len(values) + 1, dtype=np.int64), orient)


def _facts(n: int, **by_id: dict) -> dict[int, dupes.PhotoFacts]:
    facts = {i: dupes.PhotoFacts(i, f"/p/{i:03d}.jpg", 100, 100, "JPEG", 1000) for i in range(1, n + 1)}
    for key, changes in by_id.items():
        for name, value in changes.items():
            setattr(facts[int(key[1:])], name, value)
    return facts


def test_chain_is_split_at_the_keeper() -> None:
    a = 0
    b = a ^ 0b1111111  # 7 bits from a
    c = b ^ (0b1111111 << 20)  # 7 bits from b, 14 from a
    hashes = _hashset([a, b, c])
    facts = _facts(3, p1={"width": 4000, "height": 3000})  # a is the keeper
    clusters = dupes.find_clusters(hashes, facts, {}, threshold=10, rotations=False)
    assert len(clusters) == 1
    assert {m.id for m in clusters[0].members} == {1, 2}
    assert clusters[0].keeper == 1
    assert [m.distance for m in clusters[0].members] == [0, 7]


def test_not_duplicates_are_never_joined() -> None:
    hashes = _hashset([0, 1, 0xFF00])
    facts = _facts(3)
    assert len(dupes.find_clusters(hashes, facts, {}, threshold=4)) == 1
    assert dupes.find_clusters(hashes, facts, {}, threshold=4, not_duplicates=[(2, 1)]) == []


def test_keeper_rules_and_reasons() -> None:
    big = dupes.PhotoFacts(1, "/a/long/path/x.jpg", 6000, 4000, "JPEG", 9)
    small = dupes.PhotoFacts(2, "/x.jpg", 1500, 1000, "JPEG", 1)
    assert dupes.propose_keeper([small, big]) == (big, "largest: 6000x4000 vs 1500x1000")
    png = dupes.PhotoFacts(3, "/b/x.png", 1500, 1000, "PNG", 5)
    assert dupes.propose_keeper([small, png]) == (png, "lossless PNG over the JPEG re-encode")
    gps = dupes.PhotoFacts(4, "/c/x.jpg", 1500, 1000, "JPEG", 5, has_exif=True, has_gps=True)
    assert dupes.propose_keeper([small, gps])[0] is gps
    early = dupes.PhotoFacts(5, "/d/x.jpg", 1500, 1000, "JPEG", 5, taken_at="2019-05-01T10:00:00")
    late = dupes.PhotoFacts(6, "/e/x.jpg", 1500, 1000, "JPEG", 5, taken_at="2021-01-01T10:00:00")
    assert dupes.propose_keeper([late, early]) == (early, "earliest: 2019-05-01")
    assert dupes.propose_keeper([small, dupes.PhotoFacts(7, "/longer/x.jpg", 1500, 1000, "JPEG", 1)])[0] is small


@pytest.fixture(scope="module")
def dupes_library(tmp_path_factory: pytest.TempPathFactory, corpus: Path):
    root = tmp_path_factory.mktemp("dupes")
    photos = root / "photos"
    shutil.copytree(corpus / "dupes", photos)
    lib = Library.open(root / "lib")
    lib.import_folders([photos])
    yield lib, photos
    lib.close()


def test_default_settings_precision_and_recall_on_corpus(dupes_library) -> None:
    _, photos = dupes_library
    truth_rows = list(csv.DictReader((photos / "groundtruth.csv").read_text().splitlines()))
    group = {r["file"]: r["group"] for r in truth_rows}
    kind = {r["file"]: r["transform"] for r in truth_rows}
    clusters = duplicates.library_clusters()  # defaults: similar tier, threshold 10, rotations on
    name = {p.id: Path(p.path).name for p in Photo.select()}
    assert len(name) == len(truth_rows)
    found = set()
    for c in clusters:
        files = sorted(name[m.id] for m in c.members)
        found |= {(a, b) for i, a in enumerate(files) for b in files[i + 1 :]}
    claimed = sorted(f for f in group if kind[f] not in HARD)
    truth = {(a, b) for i, a in enumerate(claimed) for b in claimed[i + 1 :] if group[a] == group[b]}
    found = {(a, b) for a, b in found if kind[a] not in HARD and kind[b] not in HARD}
    precision = len(found & truth) / len(found)
    recall = len(found & truth) / len(truth)
    assert precision >= 0.98, (precision, sorted(found - truth))
    assert recall >= 0.9, recall
    # rotated, mirrored and EXIF-rotated copies are found with their originals
    for f in ("g18_obama_rot90.jpg", "g18_obama_mirror.jpg", "g04_hubble_deep_field_exif_rot90.jpg"):
        original = next(o for o in group if group[o] == group[f] and kind[o] == "original")
        assert tuple(sorted((f, original))) in found


def test_cli_lists_and_trashes_others_then_remembers_decisions(
    dupes_library, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import json

    lib, photos = dupes_library
    monkeypatch.setenv("XDG_DATA_HOME", str(photos.parent / "xdg"))  # a trash on the same disk, not the user's
    argv = ["--library", str(lib.root), "dupes"]
    lib.writer.flush()
    assert main([*argv, "--json"]) == 0
    clusters = json.loads(capsys.readouterr().out)
    exact = next(c for c in clusters if c["tier"] == "exact")
    assert {Path(m["path"]).name for m in exact["members"]} == {
        "x00_warty-final-ubuntu.png",
        "x00_lomiri-default-background.png",
    }
    target = next(c for c in clusters if any("g18_obama" in m["path"] for m in c["members"]))
    keeper = next(m for m in target["members"] if m["keep"])
    others = [m for m in target["members"] if not m["keep"]]
    assert all(0 < m["similarity"] <= 1 and m["similarity"] == round(1 - m["distance"] / 64, 4) for m in others)
    assert main([*argv, "--trash-others", str(target["id"]), "--yes"]) == 0
    out = capsys.readouterr().out
    assert f"moved {len(others)} file(s) to the trash" in out
    assert Path(keeper["path"]).exists()
    for m in others:
        assert not Path(m["path"]).exists()
        assert Photo.get_by_id(m["id"]).status == "trashed"
    records = {r.path: r.id for r in TrashRecord.select()}
    assert {m["path"] for m in others} <= set(records)
    # in the system trash, not deleted: it comes back
    back = others[0]["path"]
    assert main(["--library", str(lib.root), "untrash", str(records[back])]) == 0
    assert Path(back).exists()
    # "not duplicates" survives: the cluster is never proposed again
    second = next(c for c in clusters if c["id"] != target["id"] and c["tier"] == "similar")
    assert main([*argv, "--not-duplicates", str(second["id"])]) == 0
    capsys.readouterr()
    assert main([*argv, "--json"]) == 0
    assert second["id"] not in {c["id"] for c in json.loads(capsys.readouterr().out)}
