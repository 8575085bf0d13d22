"""The edited tier: the geometric check on corpus pictures, the neighbour search against brute force,
and a real library (import, analysis, find_duplicates) holding crops, two overlapping crops of one
photo, dark/light twins and the frames of a burst; decisions cached per pair of files."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import piexif
import pytest
from PIL import Image

from app.core import dupes, edit_match, edited_candidates, find_duplicates
from app.core.catalog import duplicates
from app.core.catalog.models import EditCheck, Photo
from app.core.edited_candidates import neighbour_pairs_cached
from app.core.edited_links import EditLink, transform
from app.core.feature_neighbours import neighbour_pairs
from app.core.library import Library

STAGES = ["thumbnails", "hashes", "tags"]  # what the duplicate finder reads: hashes, features


def _picture(path: Path) -> edit_match.Picture:
    image = cv2.imread(str(path))
    return edit_match.picture(image, (image.shape[1], image.shape[0]))


@pytest.fixture(scope="module")
def pictures(corpus: Path):
    cache: dict[str, edit_match.Picture] = {}

    def get(name: str) -> edit_match.Picture:
        if name not in cache:
            cache[name] = _picture(corpus / "dupes" / name)
        return cache[name]

    return get


def test_check_names_the_edit_and_turns_away_twins(pictures) -> None:
    crop = edit_match.compare(pictures("g20_calla.jpg"), pictures("g20_calla_crop16x9.jpg"))
    assert crop.matched and crop.edits == ("crop",) and crop.inliers >= edit_match.MIN_INLIERS
    # x_crop = M x_original: same scale, the 16:9 band starts 59 px down in the 1400x908 original
    m = np.array(crop.matrix).reshape(2, 3)
    assert m[0, 0] == pytest.approx(1.0, abs=0.01) and m[1, 2] == pytest.approx(-59, abs=3)
    assert edit_match.compare(pictures("g02_coffee.jpg"), pictures("g02_coffee_watermark.jpg")).edits == ("watermark",)
    assert edit_match.compare(pictures("g02_coffee.jpg"), pictures("g02_coffee_bright.jpg")).edits == ("colour",)
    assert edit_match.compare(pictures("g02_coffee.jpg"), pictures("g02_coffee_gray.jpg")).edits == ("colour",)
    plain = edit_match.compare(pictures("g13_flower.jpg"), pictures("g13_flower_q40.jpg"))
    assert plain.matched and plain.edits == ()
    turned = edit_match.compare(pictures("g18_obama.jpg"), pictures("g18_obama_rot90.jpg"))
    angle = np.degrees(np.arctan2(turned.matrix[3], turned.matrix[0]))
    assert turned.matched and abs(angle) == pytest.approx(90, abs=1)
    # the same design in dark and light colours lines up perfectly: the lightness gap tells them apart
    twins = edit_match.compare(pictures("n00d_gnome_licorice_d.jpg"), pictures("n00l_gnome_licorice_l.jpg"))
    assert not twins.matched and twins.reason.startswith("mean gray differs")
    assert not edit_match.compare(pictures("g34_desert.jpg"), pictures("g35_rollpaper.jpg")).matched
    assert not edit_match.compare(pictures("f00_white.png"), pictures("f01_black.png")).matched


def test_transform_toward_either_keeper() -> None:
    # b is the lower 16:9 band of a 4000x3000 photo a, at half size
    link = EditLink(1, 2, 120, (0.5, 0.0, 0.0, 0.0, 0.5, -187.5), ("crop",))
    on_a = transform(link, 1, (4000, 3000), (2000, 1125))
    assert on_a.crop == (0, 375, 4000, 2250) and on_a.scale == 0.5 and on_a.rotation == 0.0
    assert on_a.is_crop and on_a.keeper_cover == 0.75 and on_a.inliers == 120
    on_b = transform(link, 2, (2000, 1125), (4000, 3000))  # a on b: sticks out above and below
    assert on_b.crop == (0, 0, 2000, 1125) and on_b.scale == 2.0 and not on_b.is_crop


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float16)


def _planted(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors around a common mean (like the classifier's, all photos ~0.2 alike) and a noisy
    copy of every tenth one (cosine 0.7-0.99 with it)."""
    d = 1280
    spectrum = 0.068 * np.arange(1, d + 1) ** -0.9  # the corpus' principal spectrum, roughly
    mean = np.zeros(d)
    mean[0] = 0.47
    base = mean + rng.standard_normal((n, d)) * np.sqrt(spectrum)
    src = np.arange(0, n, 10)
    copies = base[src] + rng.standard_normal((len(src), d)) * np.sqrt(spectrum) * rng.uniform(0.1, 0.7, (len(src), 1))
    return _unit(np.vstack((base, copies))), np.stack((src, n + np.arange(len(src))), axis=1)


def test_neighbours_equal_brute_force_and_the_inverted_file_finds_planted_copies() -> None:
    rng = np.random.default_rng(3)
    vectors, planted = _planted(3000, rng)
    full = vectors.astype(np.float32) @ vectors.astype(np.float32).T
    np.fill_diagonal(full, -1)
    top, floor = 8, 0.7
    ranked = np.argsort(-full, axis=1)[:, :top]
    expected = {(min(i, j), max(i, j)) for i in range(len(full)) for j in ranked[i] if full[i, j] >= floor}
    pairs, cosine = neighbour_pairs(vectors, top=top, floor=floor)
    assert {tuple(p) for p in pairs.tolist()} == expected
    assert np.allclose(cosine, full[pairs[:, 0], pairs[:, 1]], atol=1e-5) and list(cosine) == sorted(cosine)[::-1]
    # above the exact limit: cells and probes. Every planted copy at or above the floor is found
    cells, _ = neighbour_pairs(vectors, top=top, floor=floor, exact_limit=0)
    wanted = {tuple(p) for p in planted.tolist() if full[p[0], p[1]] >= floor}
    assert len(wanted) > 250 and len(wanted - {tuple(p) for p in cells.tolist()}) <= len(wanted) // 100


def test_candidate_search_is_reused_for_unchanged_photos(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(5)
    vectors, planted = _planted(1500, rng)
    ids = np.arange(10, 10 + len(vectors), dtype=np.int64)
    cache, top, floor = tmp_path / "cache" / "candidates.npz", 8, 0.7

    def brute_force(rows: np.ndarray) -> set[tuple[int, int]]:
        pairs, _ = neighbour_pairs(vectors[rows], top=top, floor=floor)
        return {tuple(p) for p in ids[rows][pairs].tolist()}

    everyone = np.arange(len(vectors))
    first = neighbour_pairs_cached(cache, ids, vectors, top=top, floor=floor)
    assert set(first) == brute_force(everyone) and cache.exists()
    searches: list[int] = []
    monkeypatch.setattr(edited_candidates, "neighbour_pairs", lambda v, **kw: searches.append(len(v)) or ([], []))
    assert neighbour_pairs_cached(cache, ids, vectors, top=top, floor=floor) == first and not searches
    # 25 photos' copies arrive (were not there before): found from their own side, no full search
    copies = planted[planted[:, 0] < 250][:, 1]
    before = np.setdiff1d(everyone, copies)
    neighbour_pairs_cached(cache, ids[before], vectors[before], top=top, floor=floor)
    after = set(neighbour_pairs_cached(cache, ids, vectors, top=top, floor=floor))
    assert not searches
    close = [(a, b) for a, b in planted.tolist() if vectors[a].astype(np.float32) @ vectors[b] >= floor]
    planted_ids = {(int(ids[a]), int(ids[b])) for a, b in close}
    arrived = {p for p in planted_ids if p[1] in set(ids[copies].tolist())}
    assert len(arrived) >= 20 and arrived <= after
    monkeypatch.setattr(edited_candidates, "EXACT_LIMIT", 0)  # as above 5k photos: ranked on the projection
    neighbour_pairs_cached(cache, ids[before], vectors[before], top=top, floor=floor)
    assert arrived <= set(neighbour_pairs_cached(cache, ids, vectors, top=top, floor=floor))
    assert len(after ^ brute_force(everyone)) <= len(after) // 100  # the same as searching again, near enough
    # a removed photo takes its pairs along; a changed setting or a damaged file means a new search
    gone = int(ids[copies[0]])
    assert not any(
        gone in p for p in neighbour_pairs_cached(cache, ids[ids != gone], vectors[ids != gone], top=top, floor=floor)
    )
    neighbour_pairs_cached(cache, ids, vectors, top=top, floor=0.8)
    cache.write_bytes(b"not a cache")
    neighbour_pairs_cached(cache, ids, vectors, top=top, floor=0.8)
    assert searches == [len(vectors), len(vectors)]


def _save_with_exif(image: Image.Image, exif: dict, dest: Path, taken: bytes) -> None:
    exif = {k: dict(v) if isinstance(v, dict) else v for k, v in exif.items()}
    exif["Exif"][piexif.ExifIFD.DateTimeOriginal] = taken
    exif.pop("thumbnail", None)
    exif["1st"] = {}
    image.save(dest, "JPEG", quality=92, exif=piexif.dump(exif))


@pytest.fixture(scope="module")
def edited_library(tmp_path_factory: pytest.TempPathFactory, corpus: Path):
    """Crops, overlapping crops, twins and a burst, imported and analyzed like a user would."""
    root = tmp_path_factory.mktemp("edited")
    photos = root / "photos"
    photos.mkdir()
    for name in ("g20_calla.jpg", "g20_calla_crop16x9.jpg", "n00d_gnome_licorice_d.jpg", "n00l_gnome_licorice_l.jpg"):
        shutil.copy2(corpus / "dupes" / name, photos)
    mouse = Image.open(corpus / "dupes" / "g23_the-mouse.jpg")
    w, h = mouse.size
    mouse.crop((0, 0, int(w * 0.7), h)).save(photos / "mouse_left.jpg", quality=90)  # two crops sharing 40 %
    mouse.crop((int(w * 0.3), 0, w, h)).save(photos / "mouse_right.jpg", quality=90)
    # a burst: the camera's frame, then one 1 s later (zoomed in); and an export of that zoomed view
    # that keeps the first frame's capture time (an edit, not a new frame)
    source = corpus / "exif" / "camera_canon_sx530hs.jpg"
    shutil.copy2(source, photos / "burst_1.jpg")
    exif = piexif.load(str(source))
    frame = Image.open(source)
    zoomed = frame.crop((160, 120, 1120, 840))
    _save_with_exif(zoomed, exif, photos / "burst_2.jpg", b"2020:09:12 11:49:39")
    _save_with_exif(zoomed, exif, photos / "burst_1_export.jpg", exif["Exif"][piexif.ExifIFD.DateTimeOriginal])
    lib = Library.open(root / "lib")
    lib.import_folders([photos], analyze=False)
    lib.analyze(stages=STAGES)
    lib.writer.flush()
    yield lib, photos
    lib.close()


def _named(clusters: list[dupes.Cluster]) -> list[set[str]]:
    name = {p.id: Path(p.path).name for p in Photo.select()}
    return [{name[m.id] for m in c.members} for c in clusters]


def test_edited_tier_joins_crops_to_the_uncropped_keeper(edited_library) -> None:
    lib, _ = edited_library
    clusters = find_duplicates.library_clusters(lib, tiers="edited")
    named = _named(clusters)
    assert {"g20_calla.jpg", "g20_calla_crop16x9.jpg"} in named
    assert {"mouse_left.jpg", "mouse_right.jpg"} in named  # two crops of one photo that overlap
    assert not any({"n00d_gnome_licorice_d.jpg", "n00l_gnome_licorice_l.jpg"} & group for group in named)
    calla = clusters[named.index({"g20_calla.jpg", "g20_calla_crop16x9.jpg"})]
    _, facts, _ = duplicates.load()
    keeper, crop = facts[calla.keeper], next(m for m in calla.members if m.id != calla.keeper)
    assert Path(keeper.path).name == "g20_calla.jpg" and calla.tier == "edited" and crop.tier == "edited"
    x, y, w, h = crop.transform.crop
    assert x == 0 and abs(w - keeper.width) <= 3 and abs(y - 59) <= 3 and abs(h - 789) <= 3  # 1024 px thumbnails
    assert calla.keeper_reason == f"uncropped: {keeper.width}x{keeper.height}; the other is a {w}x{h} crop of it"
    assert crop.transform.edits == ("crop",) and crop.transform.inliers >= edit_match.MIN_INLIERS


def test_frames_of_a_burst_are_never_joined_but_an_export_is(edited_library) -> None:
    lib, _ = edited_library
    named = _named(find_duplicates.library_clusters(lib, tiers="edited"))
    assert {"burst_1.jpg", "burst_1_export.jpg"} in named
    assert not any("burst_2.jpg" in group for group in named)
    # the geometry alone would have joined the second frame: its check passed
    _, facts, sha = duplicates.load()
    ids = {Path(f.path).name: pid for pid, f in facts.items()}
    assert dupes.is_burst(facts[ids["burst_1.jpg"]], facts[ids["burst_2.jpg"]])
    checker = find_duplicates.Checker(lib, facts, sha)
    assert checker([(ids["burst_1.jpg"], ids["burst_2.jpg"])]), "a zoomed frame is geometrically a crop"


def test_decisions_are_cached_per_pair_of_files_until_one_changes(
    tmp_path: Path, corpus: Path, catalog_url: str | None
) -> None:
    """On SQLite and on a studio's PostgreSQL catalog (catalog_url sets TESSERA_CATALOG)."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("g20_calla.jpg", "g20_calla_crop16x9.jpg"):
        shutil.copy2(corpus / "dupes" / name, photos)
    with Library.open(tmp_path / "lib") as lib:
        lib.import_folders([photos], analyze=False)
        lib.analyze(stages=STAGES)
        assert len(find_duplicates.library_clusters(lib, tiers="edited")) == 1
        assert (lib.root / find_duplicates.CANDIDATE_CACHE).exists()
        lib.writer.flush()
        first = list(EditCheck.select().dicts())
        assert len(first) == 1 and first[0]["matched"] and first[0]["version"] == edit_match.VERSION
        shas = {p.sha256 for p in Photo.select()}
        assert {first[0]["sha_a"], first[0]["sha_b"]} == shas
        find_duplicates.library_clusters(lib, tiers="edited")
        lib.writer.flush()
        assert list(EditCheck.select().dicts()) == first  # decided once: not checked again
        # the crop re-exported at another quality: a new file, so a new decision; the old one stays
        Image.open(corpus / "dupes" / "g20_calla_crop16x9.jpg").save(photos / "g20_calla_crop16x9.jpg", quality=70)
        lib.import_folders([photos], analyze=False)
        lib.analyze(stages=STAGES)
        assert len(find_duplicates.library_clusters(lib, tiers="edited")) == 1
        lib.writer.flush()
        rows = list(EditCheck.select().dicts())
        assert len(rows) == 2 and first[0] in rows and all(r["matched"] for r in rows)
