"""Studio catalog: one library on PostgreSQL (and the same code on SQLite) for several workstations.
Real processes on a real server: copies between engines, claims that split analysis, a killed
analyser, edits from two workstations at once, roots mounted at different paths, the change log."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.core import tags
from app.core.catalog import duplicates
from app.core.catalog.changes import ChangeFeed
from app.core.catalog.connection import open_catalog
from app.core.catalog.copy import copy_catalog
from app.core.catalog.engine import CatalogLocation
from app.core.catalog.models import ALL_MODELS, AnalysisClaim, ChangeLog, Photo, PhotoTag, StageState, Tag
from app.core.catalog.writer import CatalogWriter
from app.core.library import Library
from app.core.trash import trash_photos

ROOT = Path(__file__).resolve().parents[2]
STAGES = "thumbnails,colors,hashes"  # the quick stages: enough work to split, no model loading


def _env(workstation: str, catalog: str | None) -> dict[str, str]:
    env = {**os.environ, "TESSERA_WORKSTATION": workstation, "PYTHONPATH": str(ROOT)}
    if catalog:
        env["TESSERA_CATALOG"] = catalog
    return env


def _tessera(lib: Path, workstation: str, catalog: str | None, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "app", "--library", str(lib), *args],
        cwd=ROOT, env=_env(workstation, catalog), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _finish(proc: subprocess.Popen[str], timeout: float = 600) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, (proc.args, err[-2000:])
    return out


def _analysed(out: str) -> int:
    return int(re.search(r"analyzed (\d+) photos", out).group(1))  # type: ignore[union-attr]


def _imported(tmp_path: Path, corpus: Path, folder: str, catalog: str | None) -> tuple[Path, Path]:
    """A copy of a corpus folder imported (not analysed) into a new library; (library, photos)."""
    photos = tmp_path / "a" / "photos"
    shutil.copytree(corpus / folder, photos)
    lib = tmp_path / "lib"
    _finish(_tessera(lib, "a", catalog, "import", "--no-analyze", "--quiet", str(photos)))
    return lib, photos


def _analysers_by_photo() -> dict[int, set[str]]:
    """photo id -> the analysers (workstations x and y) that stored an analysis of it, by the change log."""
    import json

    out: dict[int, set[str]] = {}
    rows = ChangeLog.select(ChangeLog.origin, ChangeLog.photo_ids).where(
        ChangeLog.what.contains("analysis") & (ChangeLog.origin.startswith("x/") | ChangeLog.origin.startswith("y/"))
    )
    for origin, ids in rows.tuples():
        for pid in json.loads(ids):
            out.setdefault(pid, set()).add(origin)
    return out


def _all_done(stages: str = STAGES) -> tuple[int, int]:
    """(readable photos, those with every stage done at least once)."""
    ok = [pid for (pid,) in Photo.select(Photo.id).where(Photo.status == "ok").tuples()]
    wanted = set(stages.split(","))
    done: dict[int, set[str]] = {}
    for pid, stage in StageState.select(StageState.photo, StageState.stage).where(StageState.status == "done").tuples():
        done.setdefault(pid, set()).add(stage)
    return len(ok), sum(1 for pid in ok if wanted <= done.get(pid, set()))


# -- engines -------------------------------------------------------------------------------------------
def _dump(location: CatalogLocation, backups: Path) -> dict[str, list[tuple]]:
    database = open_catalog(location, backups)
    try:
        return {m._meta.table_name: list(m.select().order_by(*m._meta.get_primary_keys()).tuples()) for m in ALL_MODELS}
    finally:
        database.close()


@pytest.mark.timeout(900)
def test_catalog_copies_to_postgresql_and_back_with_nothing_lost(
    tmp_path: Path, corpus: Path, pg_url: str, trash_dir: Path
) -> None:
    photos = tmp_path / "photos"
    shutil.copytree(corpus / "exif", photos)
    with Library.open(tmp_path / "lib", catalog=str(tmp_path / "lib" / "catalog.sqlite")) as lib:
        lib.import_folders([photos], processes=2)  # every table: EXIF, colours, faces, tags, features
        ids = [p.id for p in Photo.select(Photo.id).where(Photo.status == "ok").order_by(Photo.id)]
        tags.add_user_tag(lib, ids[:5], "client: Dupont")
        tags.remove_tag(lib, ids[:3], next(n for (n,) in Tag.select(Tag.name).tuples() if n != "client: Dupont"))
        tags.set_rating(lib, ids[5:9], 4)
        duplicates.mark_not_duplicates(lib, ids[9:11])
        trash_photos(lib, ids[11:12])
        lib.set_setting("auto_tagging", "0.35")
    src = CatalogLocation(str(tmp_path / "lib" / "catalog.sqlite"))
    pg, back = CatalogLocation(pg_url), CatalogLocation(str(tmp_path / "back.sqlite"))
    copy_catalog(src, pg, tmp_path / "backups")
    copy_catalog(pg, back, tmp_path / "backups")

    original, on_pg, returned = (_dump(loc, tmp_path / "backups") for loc in (src, pg, back))
    assert len(original["photo"]) > 50 and len(original["face"]) > 0 and len(original["trash_record"]) == 1
    assert {t: len(r) for t, r in original.items() if r} == {t: len(r) for t, r in on_pg.items() if r}
    for table in original:  # every column of every row, user fields included, equal on both engines
        assert on_pg[table] == original[table], table
        assert returned[table] == original[table], table

    with Library.open(tmp_path / "studio", catalog=pg_url) as studio:  # ids go on after the copied ones
        tags.add_user_tag(studio, ids[:1], "after the move")
        assert Tag.get(Tag.name == "after the move").id > max(t[0] for t in original["tag"])
        with pytest.raises(Exception, match="already holds photos"):
            copy_catalog(src, pg, tmp_path / "backups")


def test_writer_runs_a_batch_again_after_a_serialization_failure(tmp_path: Path, pg_url: str) -> None:
    """A real SQLSTATE 40001 from the server in the middle of a batch: the batch is rolled back and
    run again as a whole; every operation commits exactly once."""
    with Library.open(tmp_path / "lib", catalog=pg_url) as lib:
        writer = CatalogWriter(lib.db, max_delay=0.5)
        calls = {"n": 0}

        def loses_a_race() -> str:
            calls["n"] += 1
            if calls["n"] == 1:
                lib.db.execute_sql("DO $$ BEGIN RAISE EXCEPTION 'lost' USING ERRCODE = '40001'; END $$")
            return "won"

        first = writer.submit(lambda: Tag.create(name="before").id)
        racing = writer.submit(loses_a_race)
        last = writer.submit(lambda: Tag.create(name="after").id)
        assert racing.result(30) == "won" and first.result(30) and last.result(30)
        writer.close()
        assert calls["n"] == 2
        assert sorted(n for (n,) in Tag.select(Tag.name).tuples()) == ["after", "before"]


# -- shared analysis ----------------------------------------------------------------------------------
@pytest.mark.timeout(900)
def test_two_analysers_split_the_work(tmp_path: Path, corpus: Path, catalog_url: str | None) -> None:
    lib, _ = _imported(tmp_path, corpus, "dupes", catalog_url)
    runs = [_tessera(lib, ws, catalog_url, "analyze", "--stages", STAGES, "--jobs", "1", "--quiet") for ws in "xy"]
    counts = [_analysed(_finish(r)) for r in runs]
    with Library.open(lib, auto_backup=False):
        total, done = _all_done()
        by_photo = _analysers_by_photo()
        assert AnalysisClaim.select().count() == 0  # released at the end
    assert done == total == sum(counts)  # none skipped, none twice
    assert all(n > 0 for n in counts), counts  # both took part
    assert len(by_photo) == total and all(len(o) == 1 for o in by_photo.values())


@pytest.mark.timeout(900)
def test_killed_analysers_photos_return_to_the_pool(tmp_path: Path, corpus: Path, pg_url: str) -> None:
    lib, _ = _imported(tmp_path, corpus, "dupes", pg_url)
    doomed = _tessera(lib, "x", pg_url, "analyze", "--stages", STAGES, "--jobs", "1", "--lease", "3", "--quiet")
    with Library.open(lib, catalog=pg_url, auto_backup=False):
        deadline = time.monotonic() + 300
        while StageState.select().where(StageState.stage == "hashes").count() < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(30)
        held = AnalysisClaim.select().where(AnalysisClaim.worker.startswith("x/")).count()
        _, stored_by_a = _all_done()
    assert held > 0 and stored_by_a >= 5  # killed in the middle, holding claims
    survivor = _tessera(lib, "y", pg_url, "analyze", "--stages", STAGES, "--jobs", "2", "--lease", "3", "--quiet")
    by_b = _analysed(_finish(survivor))
    with Library.open(lib, catalog=pg_url, auto_backup=False):
        total, done = _all_done()
        assert AnalysisClaim.select().count() == 0
        assert all(len(o) == 1 for o in _analysers_by_photo().values())
    assert done == total == stored_by_a + by_b


# -- several writers ----------------------------------------------------------------------------------
@pytest.mark.timeout(900)
def test_two_workstations_edit_and_analyse_at_once(tmp_path: Path, corpus: Path, pg_url: str) -> None:
    lib, _ = _imported(tmp_path, corpus, "dupes", pg_url)
    editors = [
        subprocess.Popen([sys.executable, "-m", "tests.studio_edits", str(lib), ws, str(parity)], cwd=ROOT,
                         env=_env(ws, pg_url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for parity, ws in enumerate("ab")
    ]  # fmt: skip
    analysers = [_tessera(lib, ws, pg_url, "analyze", "--stages", STAGES, "--jobs", "1", "--quiet") for ws in "xy"]
    edited = [int(_finish(e)) for e in editors]
    analysed = [_analysed(_finish(a)) for a in analysers]
    with Library.open(lib, catalog=pg_url, auto_backup=False):
        ids = [pid for (pid,) in Photo.select(Photo.id).tuples()]
        user_tags = set(PhotoTag.select(PhotoTag.photo, Tag.name).join(Tag).where(PhotoTag.source == "user").tuples())
        ratings = dict(Photo.select(Photo.id, Photo.rating).tuples())
        total, done = _all_done()
        by_photo = _analysers_by_photo()
    assert edited == [len(ids), len(ids)]
    assert user_tags == {(pid, f"{ws}-{pid}") for pid in ids for ws in "ab"}  # every tag of both
    assert ratings == {pid: pid % 5 + 1 for pid in ids}  # every rating of both, none undone by analysis
    assert done == total == sum(analysed)
    assert len(by_photo) == total and all(len(o) == 1 for o in by_photo.values())


def test_later_edit_wins_and_the_other_workstation_sees_it(
    tmp_path: Path, corpus: Path, catalog_url: str | None
) -> None:
    lib, _ = _imported(tmp_path, corpus, "faces", catalog_url)
    with Library.open(lib, auto_backup=False) as mine:
        pid = Photo.select(Photo.id).order_by(Photo.id).first().id
        feed = ChangeFeed()
        tags.set_rating(mine, [pid], 2)
        assert not feed.poll()  # our own edit: the view shows it already
        _finish(_tessera(lib, "b", catalog_url, "rate", "5", str(pid)))  # the later edit, elsewhere
        _finish(_tessera(lib, "b", catalog_url, "tag", str(pid), "--add", "from b"))
        seen = feed.poll()
        assert pid in seen.photo_ids and "edit" in seen.whats
        assert Photo.get_by_id(pid).rating == 5
        assert "from b" in {n for (n,) in Tag.select(Tag.name).join(PhotoTag).where(PhotoTag.photo == pid).tuples()}
        assert not feed.poll()  # seen once


def test_roots_mapped_to_another_mount(tmp_path: Path, corpus: Path, catalog_url: str | None) -> None:
    """Workstation a imports /…/a/photos; the same share is /…/b/photos on workstation b."""
    lib, photos = _imported(tmp_path, corpus, "faces", catalog_url)
    mount_b = tmp_path / "b" / "photos"
    mount_b.parent.mkdir()
    photos.rename(mount_b)  # a's path is gone: only b's mount holds the files now

    listing = _tessera(lib, "b", catalog_url, "roots")
    out, _ = listing.communicate(timeout=120)
    assert listing.returncode == 1 and "MISSING" in out and str(photos) in out
    _finish(_tessera(lib, "b", catalog_url, "roots", "--map", "1", str(mount_b)))
    assert f"-> {mount_b}" in _finish(_tessera(lib, "b", catalog_url, "roots"))
    analysed = _analysed(_finish(_tessera(lib, "b", catalog_url, "analyze", "--stages", "hashes", "--quiet")))
    rescan = _finish(_tessera(lib, "b", catalog_url, "import", "--no-analyze", "--quiet", str(mount_b)))
    shown = _finish(_tessera(lib, "b", catalog_url, "show", "1", "--json"))
    with Library.open(lib, auto_backup=False):
        total, done = _all_done("hashes")
        stored = [p for (p,) in Photo.select(Photo.path).tuples()]
    assert analysed == done == total > 0
    assert " 0 new" in rescan and f"{total} unchanged" in rescan and "0 missing" in rescan
    assert all(p.startswith(str(photos)) for p in stored)  # stored once, as a imported them
    assert str(mount_b) in shown


def test_unknown_catalog_server_is_a_clear_error(tmp_path: Path) -> None:
    bad = _tessera(tmp_path / "lib", "a", None, "--catalog", "postgresql://nobody@127.0.0.1:1/none", "stats")
    _, err = bad.communicate(timeout=120)
    assert bad.returncode == 1 and "cannot open the studio catalog postgresql://nobody@127.0.0.1:1/none" in err
    assert "Traceback" not in err


@pytest.mark.timeout(900)
def test_import_and_another_workstations_analyser_split_the_analysis(tmp_path: Path, corpus: Path, pg_url: str) -> None:
    """Workstation x imports (with analysis) while y runs `tessera analyze`: the slow stages the import
    left are claimed by both, and no photo's are done twice."""
    import json

    photos = tmp_path / "photos"
    shutil.copytree(corpus / "faces", photos)
    lib = tmp_path / "lib"
    importer = _tessera(lib, "x", pg_url, "import", "--jobs", "1", "--quiet", str(photos))
    with Library.open(lib, catalog=pg_url, auto_backup=False):
        deadline = time.monotonic() + 300
        while Photo.select().count() < 20 and time.monotonic() < deadline and importer.poll() is None:
            time.sleep(0.1)
    analyser = _tessera(lib, "y", pg_url, "analyze", "--jobs", "1", "--quiet")
    _finish(importer)
    by_y = _analysed(_finish(analyser))
    with Library.open(lib, catalog=pg_url, auto_backup=False) as studio:
        assert studio.unfinished_analysis() == 0  # every stage of every photo, by one or the other
        ok = Photo.select().where(Photo.status == "ok").count()
        batches = list(ChangeLog.select(ChangeLog.origin, ChangeLog.what, ChangeLog.photo_ids).tuples())
        assert AnalysisClaim.select().count() == 0
    analysed: dict[str, list[int]] = {"x": [], "y": []}  # the analysis stored outside the import's own decode
    for origin, what, ids in batches:
        if "analysis" in what and "import" not in what.split(","):
            analysed[origin[0]] += json.loads(ids)
    assert ok >= 50  # the corpus's photos, imported
    assert by_y > 0 and analysed["y"] and analysed["x"]  # both took part
    assert not set(analysed["x"]) & set(analysed["y"])  # none twice
    assert len(analysed["x"]) == len(set(analysed["x"])) and len(analysed["y"]) == len(set(analysed["y"]))
