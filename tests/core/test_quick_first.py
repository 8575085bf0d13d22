"""Quick stages first, slow ones after, nothing decoded that is not needed, and a pause that holds
across a reopen: on real corpus photos, read back from the catalog."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from app.core.analysis import decode, work, workers
from app.core.analysis.stages import QUICK, REGISTRY, SLOW
from app.core.catalog.models import OK, Face, Photo, StageState
from app.core.library import Library
from app.core.records import STAGES, Task

QUICK_STAGES = {s.name for s in REGISTRY if s.tier == QUICK}
SLOW_STAGES = {s.name for s in REGISTRY if s.tier == SLOW}


def _photos(corpus: Path, dst: Path, count: int = 8) -> Path:
    dst.mkdir()
    for p in sorted((corpus / "faces").glob("*.jpg"))[:count]:
        shutil.copy2(p, dst / p.name)
    return dst


def _big_png(corpus: Path, dst: Path) -> Path:
    """A 4.7 MP PNG: decoding it again costs too much, so its slow stages run with its quick ones."""
    with Image.open(corpus / "faces" / "group_poker.jpg") as im:
        im.convert("RGB").resize((2800, 1680)).save(dst / "big.png", compress_level=1)
    return dst / "big.png"


def _stored_order(catalog: Path) -> list[tuple[str, str]]:
    """(filename, stage) of every stored stage, in the order the writer stored them."""
    con = sqlite3.connect(catalog)
    try:
        rows = con.execute(
            "SELECT p.filename, s.stage FROM stage_state s JOIN photo p ON p.id = s.photo_id ORDER BY s.rowid"
        ).fetchall()
    finally:
        con.close()
    return [(name, stage) for name, stage in rows if stage != "metadata"]


def test_quick_stages_of_every_photo_are_stored_before_any_slow_stage(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _photos(corpus, tmp_path / "photos")
    big = _big_png(corpus, folder)
    pools: list[workers.WorkerPool] = []

    class CountedPool(workers.WorkerPool):
        def __init__(self, *args: object, **kwargs: object) -> None:
            pools.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(workers, "WorkerPool", CountedPool)
    with Library.open(tmp_path / "lib") as lib:
        report = lib.import_folders([folder], processes=1)
        assert not report.failed
        assert len(pools) == 1  # the import and the slow stages it left shared one pool of workers
        order = _stored_order(lib.catalog_path)
        photos = {name for name, _ in order}
        assert len(photos) == 9 and len(order) == 9 * len(STAGES)  # every stage of every photo, once
        first_slow = min(i for i, (name, stage) in enumerate(order) if stage in SLOW_STAGES and name != big.name)
        last_quick = max(i for i, (_, stage) in enumerate(order) if stage in QUICK_STAGES)
        assert last_quick < first_slow  # the JPEGs: all quick stages, then all slow ones
        # the PNG is decoded once: its slow stages come with its quick ones, before the JPEGs' slow ones
        png = [i for i, (name, _) in enumerate(order) if name == big.name]
        assert png == list(range(png[0], png[0] + len(STAGES))) and png[-1] < first_slow
        assert Face.select().count() >= 5  # the slow stages did their work: the poker players, among others


def test_a_deferred_photo_gets_the_results_of_one_pass(corpus: Path, tmp_path: Path) -> None:
    """Deferring the slow stages decodes the photo again at the same size: the same faces and tags."""
    photo = corpus / "faces" / "group_poker.jpg"
    one_pass = work.process(Task(str(photo), thumbs_dir=str(tmp_path)))
    quick = work.process(Task(str(photo), thumbs_dir=str(tmp_path), defer_slow=True))
    assert set(quick.results) == QUICK_STAGES and set(quick.deferred) == SLOW_STAGES
    slow = work.process(Task(str(photo), stages=quick.deferred, read_metadata=False, thumbs_dir=str(tmp_path)))
    assert slow.results["faces"] == one_pass.results["faces"] and len(slow.results["faces"]) >= 3
    assert slow.results["tags"].tags == one_pass.results["tags"].tags
    assert quick.results["hashes"].phash == one_pass.results["hashes"].phash


@pytest.fixture
def no_pixel_decode(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every pixel load of any Pillow image plugin (and pillow_heif's)."""
    import pillow_heif.as_plugin

    Image.init()
    classes = {ImageFile.ImageFile, pillow_heif.as_plugin.HeifImageFile}
    classes |= {factory for factory, _ in Image.OPEN.values() if isinstance(factory, type)}
    loads: list[str] = []
    for cls in {base for c in classes for base in c.__mro__ if "load" in base.__dict__ and base is not object}:
        original = cls.__dict__["load"]

        def load(self, *args, _original=original, **kwargs):  # type: ignore[no-untyped-def]
            loads.append(getattr(self, "filename", "") or type(self).__name__)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "load", load)
    return loads


def test_import_without_analysis_decodes_no_pixel(corpus: Path, no_pixel_decode: list[str]) -> None:
    """Every format and camera file: the facts an import keeps, from headers alone."""
    files = [p for folder in ("formats", "exif") for p in sorted((corpus / folder).iterdir())]
    facts = {}
    for path in files:
        if path.suffix.lower() in (".md", ".csv", ".json", ".xmp"):
            continue
        out = work.process(Task(str(path), stages=()))
        assert out.error is None, (path.name, out.error)
        facts[path.name] = out.decoded
    assert no_pixel_decode == []
    with open(corpus / "formats" / "expected.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            got = facts[row["file"]]
            expected = (int(row["width"]), int(row["height"]), int(row["frames"]))
            assert (got["width"], got["height"], got["frames"]) == expected, row["file"]
    exif = json.loads((corpus / "exif" / "expected.json").read_text())
    for name, facts_of in exif.items():
        assert (facts[name]["width"], facts[name]["height"]) == (facts_of["width"], facts_of["height"]), name
    assert facts["orient_f6.jpg"]["orientation"] == 6


def _decoded_sizes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The image size of every decode_reduced call from now on (a worker's and decode_larger's)."""
    seen: list[tuple[int, int]] = []
    real = decode.decode_reduced

    def spy(data: bytes, fmt: str, need: int, detail: int = 0):  # type: ignore[no-untyped-def]
        decoded = real(data, fmt, need, detail)
        seen.append(decoded.image.size)
        return decoded

    monkeypatch.setattr(work, "decode_reduced", spy)
    monkeypatch.setattr(decode, "decode_reduced", spy)
    return seen


def test_each_run_decodes_once_at_the_size_its_stages_need(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = corpus / "exif" / "phone_xiaomi_mia3_gps_sw.jpg"  # 4000x3000
    seen = _decoded_sizes(monkeypatch)
    hashes = work.process(Task(str(photo), stages=("hashes",), thumbs_dir=str(tmp_path)))
    every = work.process(Task(str(photo), stages=STAGES, thumbs_dir=str(tmp_path)))
    registered = work.process(Task(str(photo), stages=(), thumbs_dir=str(tmp_path)))
    # JPEG draft at 1/4 for the hashes alone and for every stage: this photo has no face and nothing
    # a zoom pass would look at again, so the faces' 2048 px detail image is never decoded
    assert every.results["faces"] == []
    assert seen == [(1000, 750), (1000, 750)]
    assert set(every.results) == set(STAGES) and hashes.decoded["width"] == registered.decoded["width"] == 4000


def test_faces_decode_their_detail_image_once_where_they_need_it(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The small faces of the wide shot (3640 px) are found by zoom passes cut from a 2048 px detail
    image: decoded once more, at 1/2 scale, for the zooms and the descriptors together."""
    photo = corpus / "faces" / "wide_shot_small_faces.jpg"
    seen = _decoded_sizes(monkeypatch)
    out = work.process(Task(str(photo), stages=STAGES, thumbs_dir=str(tmp_path)))
    assert seen == [(910, 600), (1820, 1200)]
    assert len(out.results["faces"]) >= 4 and not out.stage_errors
    vectors = out.results["descriptors"].detected
    assert len(vectors) == len(out.results["faces"]) and all(v is not None for v, _ in vectors)


def test_a_png_is_inflated_once_even_when_its_faces_want_the_detail_image(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PNG cannot be decoded at a reduced scale: its detail image is made from the pixels its one
    decode loaded (the same faces as the JPEG it was made from), never by inflating it again."""
    photo = tmp_path / "wide_shot.png"
    with Image.open(corpus / "faces" / "wide_shot_small_faces.jpg") as im:
        im.save(photo, compress_level=1)
    seen = _decoded_sizes(monkeypatch)
    out = work.process(Task(str(photo), stages=STAGES, thumbs_dir=str(tmp_path)))
    assert seen == [(1214, 800)] and not out.stage_errors  # 3640 px reduced by 3 for 1024 px stages
    assert len(out.results["faces"]) >= 4


def test_a_paused_library_imports_stays_paused_after_reopen_and_resumes(corpus: Path, tmp_path: Path) -> None:
    folder = _photos(corpus, tmp_path / "photos", count=4)
    with Library.open(tmp_path / "lib") as lib:
        lib.set_analysis_paused(True)
    with Library.open(tmp_path / "lib") as lib:
        assert lib.analysis_paused
        report = lib.import_folders([folder], paused=lambda: lib.analysis_paused)
        assert report.count("new") == 4 and report.run.paused and "analysis paused" in report.summary()
        assert Photo.select().where(Photo.status == OK).count() == 4  # in the grid, with their sizes
        assert StageState.select().where(StageState.stage != "metadata").count() == 0
        assert lib.unfinished_analysis() == 4
        assert lib.analyze(paused=lambda: lib.analysis_paused).done == 0  # still paused: nothing runs
    with Library.open(tmp_path / "lib") as lib:
        assert lib.analysis_paused and lib.unfinished_analysis() == 4
        lib.set_analysis_paused(False)
    with Library.open(tmp_path / "lib") as lib:
        assert not lib.analysis_paused
        stats = lib.analyze(paused=lambda: lib.analysis_paused)
        assert not stats.paused and not stats.failed
        assert lib.unfinished_analysis() == 0
        assert StageState.select().where(StageState.status == "done").count() == 4 * (len(STAGES) + 1)


def test_pausing_mid_import_registers_the_rest_and_resume_finishes(corpus: Path, tmp_path: Path) -> None:
    folder = _photos(corpus, tmp_path / "photos", count=6)
    with Library.open(tmp_path / "lib") as lib:
        asked = []

        def paused() -> bool:  # paused while the third photo is handed out
            asked.append(1)
            return len(asked) > 2

        report = lib.import_folders([folder], paused=paused, processes=1)
        assert report.count("new") == 6 and report.run.paused
        thumbs = StageState.select().where(StageState.stage == "thumbnails").count()
        assert thumbs == 2 and StageState.select().where(StageState.stage == "faces").count() == 0
        assert lib.unfinished_analysis() == 6
        lib.analyze()
        assert lib.unfinished_analysis() == 0


def test_the_registry_names_the_stages_in_run_order() -> None:
    """records.STAGES (what the catalog and the CLI know) and the registry (what the workers run) agree."""
    assert tuple(s.name for s in REGISTRY) == STAGES
