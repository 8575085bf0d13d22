"""The duplicate finder: exact candidate search, chaining guard, decisions, keeper, accuracy on the
corpus read back from a real catalog, and the CLI that trashes the others."""

from __future__ import annotations

import csv
import itertools
import shutil
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from app.cli import main
from app.core import dupes, find_duplicates
from app.core.analysis.decode import decode_image
from app.core.analysis.hashing import compute_hashes
from app.core.catalog import duplicates
from app.core.catalog.models import Photo, TrashRecord
from app.core.ingest.filetypes import sniff_format
from app.core.library import Library

HARD = {"crop16x9", "heavy"}  # other aspect ratio; gray + quarter size + JPEG 50: not claimed


def _planted(rng: np.random.Generator, n: int, flips: int) -> np.ndarray:
    """Random hashes; every third gets a neighbour `flips` bits away; 12 copies of one hash (a bucket
    bigger than the level-by-level expansion handles)."""
    base = rng.integers(0, 2**63, size=n, dtype=np.int64).astype(np.uint64) * np.uint64(2) + np.uint64(1)
    near = base[::3].copy()
    for _ in range(flips):
        near ^= np.uint64(1) << rng.integers(0, 64, size=len(near)).astype(np.uint64)
    return np.concatenate([base, near, np.repeat(base[:1], 12)])


def _brute(queries: np.ndarray, table: np.ndarray, threshold: int) -> np.ndarray:
    xor = queries[:, None] ^ table[None, :]
    return dupes.popcount64(xor.reshape(-1)).reshape(xor.shape) <= threshold


@pytest.mark.parametrize("threshold", [4, 6, 10, 12])
def test_multi_index_search_equals_brute_force(threshold: int) -> None:
    rng = np.random.default_rng(threshold)
    hashes = _planted(rng, 3000, flips=threshold)
    i, j = np.nonzero(np.triu(_brute(hashes, hashes, threshold), k=1))
    assert len(i) >= 1000  # the planted neighbours and the repeated hash
    assert dupes.candidate_pairs(hashes, None, threshold).tolist() == np.stack((i, j), axis=1).tolist()
    # queries against another table (the rotation search): every (query, table) pair, itself included
    queries = hashes[::7] ^ np.uint64(0b1011)
    qi, tj = np.nonzero(_brute(queries, hashes, threshold))
    assert dupes.candidate_pairs(queries, hashes, threshold).tolist() == np.stack((qi, tj), axis=1).tolist()


@pytest.mark.parametrize(("n", "threshold"), [(1000, 6), (100_000, 10), (1_000_000, 10)])
def test_block_layout_is_a_valid_pigeonhole_cover(n: int, threshold: int) -> None:
    blocks = dupes.block_layout(n, threshold)
    assert sum(r + 1 for _, _, r in blocks) >= threshold + 1
    bits = [b for shift, width, _ in blocks for b in range(shift, shift + width)]
    assert len(bits) == len(set(bits)) and max(bits) < 64  # disjoint blocks inside the hash


def test_components_are_connected_components() -> None:
    pairs = np.array([[5, 1], [1, 3], [7, 8], [8, 9], [2, 2]], dtype=np.int64)
    assert dupes.components(10, pairs).tolist() == [0, 1, 2, 1, 4, 1, 6, 7, 7, 7]


def _hashset(values: list[int], detail: float = 30.0, lightness: float = 100.0) -> dupes.HashSet:
    orient = np.array([[v] * 8 for v in values], dtype=np.uint64)
    n = len(values)
    return dupes.HashSet(np.arange(1, n + 1, dtype=np.int64), orient, np.full(n, detail), np.full(n, lightness))


def _facts(n: int, **by_id: dict) -> dict[int, dupes.PhotoFacts]:
    facts = {i: dupes.PhotoFacts(i, f"/p/{i:03d}.jpg", 100, 100, "JPEG", 1000) for i in range(1, n + 1)}
    for key, changes in by_id.items():
        for name, value in changes.items():
            setattr(facts[int(key[1:])], name, value)
    return facts


BALANCED = 0x00000000FFFFFFFF  # 32 bits set, like a real photo's pHash


def test_chain_is_split_at_the_keeper() -> None:
    a = BALANCED
    b = a ^ 0b1111111  # 7 bits from a
    c = b ^ (0b1111111 << 40)  # 7 bits from b, 14 from a
    hashes = _hashset([a, b, c])
    # one component A~B~C without the guard
    assert dupes.components(3, dupes.similar_pairs(hashes, 10, rotations=False)[0]).tolist() == [0, 0, 0]
    facts = _facts(3, p1={"width": 4000, "height": 3000})  # a is the keeper
    clusters = dupes.find_clusters(hashes, facts, {}, threshold=10, rotations=False)
    assert len(clusters) == 1
    assert clusters[0].keeper == 1
    assert [(m.id, m.distance, m.similarity) for m in clusters[0].members] == [(1, 0, 1.0), (2, 7, 0.8906)]
    assert clusters[0].reclaimable_bytes == 1000 and clusters[0].id == 1


def test_not_duplicates_are_never_joined() -> None:
    hashes = _hashset([BALANCED, BALANCED ^ 1, BALANCED ^ 2, ~BALANCED & (2**64 - 1)])
    facts = _facts(4)
    assert [sorted(m.id for m in c.members) for c in dupes.find_clusters(hashes, facts, {}, threshold=4)] == [[1, 2, 3]]
    rejected = [(2, 1), (3, 1), (2, 3)]
    assert dupes.find_clusters(hashes, facts, {}, threshold=4, not_duplicates=rejected) == []
    # an exact copy marked as different is not joined either
    assert dupes.find_clusters(hashes, facts, {1: "s", 4: "s"}, tiers=dupes.EXACT, not_duplicates=[(4, 1)]) == []
    exact = dupes.find_clusters(hashes, facts, {1: "s", 4: "s"}, tiers=dupes.EXACT)
    assert [(c.tier, [m.id for m in c.members]) for c in exact] == [("exact", [1, 4])]


def test_guards_keep_flat_and_dark_light_pairs_apart() -> None:
    flat = _hashset([1 << 63, 1 << 63])  # a degenerate pHash: one bit set
    assert dupes.find_clusters(flat, _facts(2), {}) == []
    assert len(dupes.similar_pairs(flat, 10, rotations=False, guards=False)[0]) == 1
    dark_light = dupes.HashSet.from_signatures(
        [1, 2],
        np.array([[BALANCED] * 8] * 2, dtype=np.uint64),
        [{"detail": 30, "lightness": 40}, {"detail": 30, "lightness": 130}],
    )
    assert dupes.find_clusters(dark_light, _facts(2), {}) == []
    unknown = dupes.HashSet.from_signatures([1, 2], dark_light.orient, [None, None])  # not analyzed yet: no guard
    assert len(dupes.find_clusters(unknown, _facts(2), {})) == 1


def test_signature_matches_the_hashing_stage(corpus: Path) -> None:
    data = (corpus / "dupes" / "g02_coffee.jpg").read_bytes()
    image = decode_image(data, sniff_format(data[:64])).image
    sig, h = dupes.dupe_signature(image), compute_hashes(image)
    assert sig == {"detail": h.detail, "lightness": h.lightness}
    assert sig["detail"] > dupes.MIN_DETAIL and 0 < sig["lightness"] < 255


def test_keeper_rules_and_reasons() -> None:
    big = dupes.PhotoFacts(1, "/a/long/path/x.jpg", 6000, 4000, "JPEG", 9)
    small = dupes.PhotoFacts(2, "/x.jpg", 1500, 1000, "JPEG", 1)
    assert dupes.propose_keeper([small, big]) == (big, "largest: 6000x4000 vs 1500x1000")
    png = dupes.PhotoFacts(3, "/b/x.png", 1500, 1000, "PNG", 5)
    assert dupes.propose_keeper([small, png]) == (png, "lossless PNG over the JPEG re-encode")
    gps = dupes.PhotoFacts(4, "/c/x.jpg", 1500, 1000, "JPEG", 5, has_exif=True, has_gps=True)
    assert dupes.propose_keeper([small, gps]) == (gps, "richest metadata: EXIF and GPS")
    early = dupes.PhotoFacts(5, "/d/x.jpg", 1500, 1000, "JPEG", 5, taken_at=datetime(2019, 5, 1, 10))
    late = dupes.PhotoFacts(6, "/e/x.jpg", 1500, 1000, "JPEG", 5, taken_at="2021-01-01T10:00:00")
    assert dupes.propose_keeper([late, early]) == (early, "earliest: 2019-05-01")
    longer = dupes.PhotoFacts(7, "/longer/x.jpg", 1500, 1000, "JPEG", 1)
    assert dupes.propose_keeper([longer, small]) == (small, "same size, format and metadata: shortest path")


def test_keeper_prefers_colour_then_jpeg_quality() -> None:
    def jpeg(pid: int, quality: int | None, colors: object = None, fmt: str = "JPEG", **kw) -> dupes.PhotoFacts:
        return dupes.PhotoFacts(pid, f"/{pid}.jpg", 1500, 1000, fmt, 5, jpeg_quality=quality, colors=colors, **kw)

    colour = [["#C78655", 60.0], ["#7F7F7F", 40.0]]  # JSON as the catalog stores it, or parsed
    gray = '[["#7F7F7F", 60.0], ["#535353", 40.0]]'
    q92, q88 = jpeg(1, 92), jpeg(2, 88, has_exif=True, has_gps=True)
    assert dupes.propose_keeper([q88, q92]) == (q92, "higher JPEG quality: q92 vs q88")  # before metadata
    # a grayscale copy is a derivative even when re-saved at a higher quality
    original, gray_copy = jpeg(3, 88, colour), jpeg(4, 95, gray)
    assert original.colour and gray_copy.grayscale and gray_copy.chroma == 0.0
    assert dupes.propose_keeper([gray_copy, original]) == (original, "colour, the others are grayscale")
    # a gray photo (no colour copy in the group): no colour rule, quality decides
    assert dupes.propose_keeper([jpeg(5, 88, gray), jpeg(6, 92, gray)])[1] == "higher JPEG quality: q92 vs q88"
    # a near-neutral picture (JPEG noise around the gray limit) is neither: quality still decides
    faint = jpeg(7, 88, [["#0D0F0E", 95.0], ["#2A2624", 5.0]])
    assert not faint.colour and dupes.propose_keeper([faint, jpeg(8, 92, gray)])[0].id == 8
    # unknown histogram (not analyzed yet) is not grayscale
    assert not jpeg(9, 88).grayscale and jpeg(9, 88).chroma is None
    assert jpeg(9, 88, "not json").chroma is None
    webp = jpeg(10, None, fmt="WEBP")
    assert dupes.propose_keeper([webp, q88]) == (q88, "JPEG q88 over the WEBP copy of unknown quality")


def _pairwise(files: list[str], group: dict[str, str], clusters: list[dupes.Cluster], name: dict[int, str]):
    found = {tuple(sorted((name[a.id], name[b.id]))) for c in clusters for a, b in itertools.combinations(c.members, 2)}
    found = {p for p in found if p[0] in files and p[1] in files}
    truth = {(a, b) for a, b in itertools.combinations(sorted(files), 2) if group[a] == group[b]}
    return len(found & truth) / len(found), len(found & truth) / len(truth), found, truth


def test_accuracy_on_the_corpus_from_decoded_files(corpus: Path) -> None:
    """Decode every file, hash it, sign it, cluster with the defaults: pairwise precision and recall
    on the variant kinds we claim (all but crop16x9 and heavy)."""
    folder = corpus / "dupes"
    rows = list(csv.DictReader((folder / "groundtruth.csv").read_text().splitlines()))
    orient, signatures, facts = [], [], {}
    for i, row in enumerate(rows):
        data = (folder / row["file"]).read_bytes()
        image = decode_image(data, sniff_format(data[:64])).image
        orient.append(compute_hashes(image).orientation_phashes)
        signatures.append(dupes.dupe_signature(image))
        facts[i] = dupes.PhotoFacts(i, row["file"], image.width, image.height, sniff_format(data[:64]) or "", len(data))
    hashes = dupes.HashSet.from_signatures(range(len(rows)), np.array(orient, dtype=np.uint64), signatures)
    clusters = dupes.find_clusters(hashes, facts, {})
    name = {i: r["file"] for i, r in enumerate(rows)}
    group = {r["file"]: r["group"] for r in rows}
    claimed = [r["file"] for r in rows if r["transform"] not in HARD]
    precision, recall, found, truth = _pairwise(claimed, group, clusters, name)
    assert precision >= 0.98, sorted(found - truth)
    assert recall >= 0.9, sorted(truth - found)
    # the guards are what keeps flat pictures and dark/light designs apart
    bare, _ = dupes.similar_pairs(hashes, dupes.DEFAULT_THRESHOLD, rotations=True, guards=False)
    assert sum(group[name[a]] != group[name[b]] for a, b in bare.tolist()) >= 10
    # every cluster's keeper is the original or a lossless copy of the same size
    for c in clusters:
        keeper = rows[c.keeper]
        assert keeper["transform"] in ("original", "png") or len({group[name[m.id]] for m in c.members}) == 1


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def dupes_library(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, corpus: Path):
    """The dupes corpus imported once per engine (TESSERA_CATALOG names the PostgreSQL database, also
    for the CLI runs)."""
    root = tmp_path_factory.mktemp("dupes")
    photos = root / "photos"
    shutil.copytree(corpus / "dupes", photos)
    with pytest.MonkeyPatch.context() as env:
        env.delenv("TESSERA_CATALOG", raising=False)
        if request.param == "postgresql":
            server = request.getfixturevalue("pg_server")
            env.setenv("TESSERA_CATALOG", server.url(server.create_database()))
        lib = Library.open(root / "lib")
        lib.import_folders([photos])
        yield lib, photos
        lib.close()


def _found_pairs(clusters: list[dupes.Cluster]) -> set[tuple[str, str]]:
    name = {p.id: Path(p.path).name for p in Photo.select()}
    return {pair for c in clusters for pair in itertools.combinations(sorted(name[m.id] for m in c.members), 2)}


def test_default_settings_precision_and_recall_on_corpus(dupes_library) -> None:
    """Every variant kind, crops and heavy edits too: the three tiers together, as `tessera dupes`
    and the review window run them by default."""
    lib, photos = dupes_library
    truth_rows = list(csv.DictReader((photos / "groundtruth.csv").read_text().splitlines()))
    group = {r["file"]: r["group"] for r in truth_rows}
    kind = {r["file"]: r["transform"] for r in truth_rows}
    assert Photo.select().count() == len(truth_rows)
    clusters = find_duplicates.library_clusters(lib)  # defaults: all tiers, threshold 10, rotations on
    found = _found_pairs(clusters)
    truth = {(a, b) for a, b in itertools.combinations(sorted(group), 2) if group[a] == group[b]}
    precision = len(found & truth) / len(found)
    recall = len(found & truth) / len(truth)
    assert precision >= 0.99, (precision, sorted(found - truth))
    assert recall >= 0.98, (recall, sorted(truth - found))
    # the hard negatives stay apart: dark/light twins and flat pictures are in no cluster
    clustered = {f for pair in found for f in pair}
    assert not {f for f in group if f.startswith(("n0", "f0"))} & clustered
    # every crop and heavy copy is with its original, and the original is the keeper
    name = {p.id: Path(p.path).name for p in Photo.select()}
    for c in clusters:
        if c.tier != dupes.EXACT:  # the exact pair (x00) is one wallpaper under two names
            assert kind[name[c.keeper]] == "original", (c.keeper_reason, [name[m.id] for m in c.members])
    for f in (n for n in group if kind[n] in ("crop16x9", "heavy", "crop5", "watermark")):
        original = next(o for o in group if group[o] == group[f] and kind[o] == "original")
        assert tuple(sorted((f, original))) in found, f
    # the similar tier alone is what it was: the kinds it claims, at its own figures
    similar = _found_pairs(find_duplicates.library_clusters(lib, tiers="similar"))
    claimed = sorted(f for f in group if kind[f] not in HARD)
    truth = {(a, b) for a, b in itertools.combinations(claimed, 2) if group[a] == group[b]}
    similar = {(a, b) for a, b in similar if kind[a] not in HARD and kind[b] not in HARD}
    assert len(similar & truth) / len(similar) >= 0.98 and len(similar & truth) / len(truth) >= 0.9
    for f in ("g18_obama_rot90.jpg", "g18_obama_mirror.jpg", "g04_hubble_deep_field_exif_rot90.jpg"):
        original = next(o for o in group if group[o] == group[f] and kind[o] == "original")
        assert tuple(sorted((f, original))) in similar


def test_keepers_on_the_corpus_catalog_and_their_reasons(dupes_library) -> None:
    """Same-size JPEG copies are told apart by colour and JPEG quality as the catalog stores them
    (jpeg_quality, the 32-colour histogram), not by the shortest path."""
    lib, photos = dupes_library
    _, facts, _ = duplicates.load()
    by_name = {Path(f.path).name: f for f in facts.values()}

    def keeper(*names: str) -> tuple[str, str]:
        best, reason = dupes.propose_keeper([by_name[n] for n in names])
        return Path(best.path).name, reason

    # the gray copy has a shorter name and the same pixels: colour wins
    assert keeper("g02_coffee_gray.jpg", "g02_coffee.jpg") == ("g02_coffee.jpg", "colour, the others are grayscale")
    assert keeper("g20_calla.jpg", "g20_calla_gray.jpg") == ("g20_calla.jpg", "colour, the others are grayscale")
    # q92 original vs its q88 re-encode, and vs a q40 one
    assert keeper("g02_coffee_bright.jpg", "g02_coffee.jpg") == ("g02_coffee.jpg", "higher JPEG quality: q92 vs q88")
    assert keeper("g21_city_q40.jpg", "g21_city.jpg") == ("g21_city.jpg", "higher JPEG quality: q92 vs q40")
    # a gray original and its gray copy: no colour rule, quality decides
    assert keeper("g07_camera_gray.jpg", "g07_camera.jpg") == ("g07_camera.jpg", "higher JPEG quality: q92 vs q88")
    # the heavy re-encode (gray, quarter size, JPEG 50) loses on pixels first
    assert keeper("g04_hubble_deep_field_heavy.jpg", "g04_hubble_deep_field.jpg") == (
        "g04_hubble_deep_field.jpg",
        "largest: 1000x872 vs 250x218",
    )
    # every similar cluster keeps its original
    kind = {r["file"]: r["transform"] for r in csv.DictReader((photos / "groundtruth.csv").read_text().splitlines())}
    for c in find_duplicates.library_clusters(lib, tiers="similar"):
        if c.tier == dupes.SIMILAR:
            assert kind[Path(facts[c.keeper].path).name] == "original", c.keeper_reason


def test_cli_tiers_and_the_edited_geometry_in_json(dupes_library, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    lib, _ = dupes_library
    lib.writer.flush()
    argv = ["--library", str(lib.root), "dupes", "--json"]
    assert main([*argv, "--tier", "edited"]) == 0
    edited = json.loads(capsys.readouterr().out)
    assert {c["tier"] for c in edited} == {"exact", "edited"}
    calla = next(c for c in edited if any(m["path"].endswith("g20_calla_crop16x9.jpg") for m in c["members"]))
    keeper = next(m for m in calla["members"] if m["keep"])
    crop = next(m for m in calla["members"] if m["path"].endswith("g20_calla_crop16x9.jpg"))
    assert keeper["path"].endswith("g20_calla.jpg") and keeper["tier"] is None and keeper["transform"] is None
    assert crop["tier"] == "edited" and crop["edits"] == ["crop"] and crop["inliers"] >= 15
    x, y, w, h = crop["transform"]["crop"]  # the 16:9 band of the 1400 px wide original
    assert x == 0 and abs(w - 1400) <= 3 and abs(y - 59) <= 3 and abs(h - 789) <= 3  # from 1024 px thumbnails
    # the runner-up is a lower-quality copy; the reason names the crop too
    assert calla["keeper_reason"].endswith(f"; uncropped: another is a {w}x{h} crop of it")
    assert crop["transform"]["scale"] == pytest.approx(1.0, abs=0.01) and abs(crop["transform"]["rotation"]) < 1
    # several tiers: a comma list or the option repeated, the same clusters either way
    assert main([*argv, "--tier", "exact,similar"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert main([*argv, "--tier", "exact", "--tier", "similar"]) == 0
    assert json.loads(capsys.readouterr().out) == listed
    assert {c["tier"] for c in listed} == {"exact", "similar"}
    assert all(m["tier"] in ("exact", "similar") for c in listed for m in c["members"] if not m["keep"])
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--tier", "edited,cropped"])
    assert exit_info.value.code == 2 and "cropped" in capsys.readouterr().err


def test_cli_lists_and_trashes_others_then_remembers_decisions(
    dupes_library, capsys: pytest.CaptureFixture[str], trash_dir: Path
) -> None:
    import json

    lib, _ = dupes_library
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
        assert (trash_dir / "files" / Path(m["path"]).name).exists(), "in the temporary trash, not the user's"
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
