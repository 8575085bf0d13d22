"""Catalog: pragmas, migrations with backups, corruption detection, the single writer, backups."""

from __future__ import annotations

import functools
import sqlite3
import threading
from pathlib import Path

import pytest

from app.core.catalog import backups
from app.core.catalog.connection import SCHEMA_VERSION, open_catalog
from app.core.catalog.models import Photo, SchemaVersion, Setting
from app.core.catalog.writer import CatalogWriter
from app.core.errors import CatalogCorruptError
from app.core.library import Library


def _photo(n: int, **kw: object) -> dict[str, object]:
    base = {
        "path": f"/photos/p{n}.jpg",
        "folder": "/photos",
        "filename": f"p{n}.jpg",
        "size": n,
        "mtime_ns": n,
        "imported_at": "2024-01-01T00:00:00",
        "updated_at": "2024-01-01T00:00:00",
    }
    base.update(kw)
    return base


def test_new_library_has_layout_pragmas_and_schema(tmp_path: Path) -> None:
    with Library.open(tmp_path / "lib") as lib:
        assert (tmp_path / "lib" / "catalog.sqlite").is_file()
        assert lib.thumbs_dir.is_dir() and lib.backups_dir.is_dir()
        assert lib.db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert lib.db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
        assert lib.db.execute_sql("PRAGMA busy_timeout").fetchone()[0] >= 30_000
        assert SchemaVersion.get().version == SCHEMA_VERSION


def test_library_location_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TESSERA_LIBRARY", str(tmp_path / "from-env"))
    with Library.open() as lib:
        assert lib.root == (tmp_path / "from-env").resolve()


def test_migration_backs_up_before_upgrading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.core.catalog import connection

    lib_dir = tmp_path / "lib"
    with Library.open(lib_dir) as lib:
        lib.writer.call(lambda: Photo.create(**_photo(1)))

    def add_column(database: object) -> None:
        database.execute_sql("ALTER TABLE photo ADD COLUMN pick_flag INTEGER")  # type: ignore[attr-defined]

    monkeypatch.setattr(connection, "MIGRATIONS", [*connection.MIGRATIONS, add_column])
    monkeypatch.setattr(connection, "SCHEMA_VERSION", len(connection.MIGRATIONS))
    with Library.open(lib_dir, auto_backup=False) as lib:
        assert SchemaVersion.get().version == SCHEMA_VERSION + 1
        cols = [r[1] for r in lib.db.execute_sql("PRAGMA table_info(photo)").fetchall()]
        assert "pick_flag" in cols
    made = backups.list_backups(lib_dir / "backups")
    assert [b for b in made if f"before-migration-{SCHEMA_VERSION}" in b.name]
    con = sqlite3.connect(made[0])
    assert con.execute("SELECT COUNT(*) FROM photo").fetchone()[0] == 1
    assert "pick_flag" not in [r[1] for r in con.execute("PRAGMA table_info(photo)")]
    con.close()


def test_corrupt_catalog_is_reported_with_newest_backup(tmp_path: Path) -> None:
    lib_dir = tmp_path / "lib"
    with Library.open(lib_dir) as lib:
        lib.writer.call(lambda: Photo.insert_many([_photo(i) for i in range(1, 400)]).execute())
        backup = lib.backup()
    catalog = lib_dir / "catalog.sqlite"
    data = bytearray(catalog.read_bytes())
    page = 4096
    for offset in range(page * 2, min(len(data), page * 6)):  # overwrite b-tree pages
        data[offset] = 0xA5
    catalog.write_bytes(bytes(data))
    with pytest.raises(CatalogCorruptError) as err:
        Library.open(lib_dir)
    assert err.value.newest_backup == backup
    assert "tessera restore" in str(err.value) and str(backup) in str(err.value)
    # one command restores it
    backups.restore_backup(backup, catalog, lib_dir / "backups")
    with Library.open(lib_dir) as lib:
        assert Photo.select().count() == 399


def test_backups_rotate_and_are_sound(tmp_path: Path) -> None:
    with Library.open(tmp_path / "lib") as lib:
        lib.writer.call(lambda: Photo.create(**_photo(1)))
        made = [lib.backup() for _ in range(backups.KEEP_BACKUPS + 3)]
        kept = backups.list_backups(lib.backups_dir)
        assert len(kept) == backups.KEEP_BACKUPS
        assert kept[0] == made[-1]
        assert all(backups.is_sound(b) for b in kept)


def test_writer_batches_and_isolates_failures(tmp_path: Path) -> None:
    database = open_catalog(tmp_path / "c.sqlite", tmp_path / "b")
    writer = CatalogWriter(database, batch_size=50, max_delay=0.05)
    futures = [writer.submit(lambda i=i: Photo.create(**_photo(i)).id) for i in range(1, 101)]
    bad = writer.submit(lambda: Photo.create(**_photo(5)))  # duplicate path: unique constraint
    writer.flush()
    assert all(f.exception() is None for f in futures)
    assert bad.exception() is not None
    assert Photo.select().count() == 100
    writer.close()
    database.close()


def test_readers_are_not_blocked_by_an_open_write(tmp_path: Path) -> None:
    with Library.open(tmp_path / "lib") as lib:
        lib.writer.call(lambda: Photo.create(**_photo(1)))
        inside = threading.Event()
        release = threading.Event()

        def slow_write() -> None:
            Photo.create(**_photo(2))
            inside.set()
            release.wait(10)

        fut = lib.writer.submit(slow_write)
        assert inside.wait(10)
        # a second connection (another process, e.g. the GUI) reads while the write is open (WAL)
        con = sqlite3.connect(lib.catalog_path, timeout=1)
        assert con.execute("SELECT COUNT(*) FROM photo").fetchone()[0] == 1
        con.close()
        release.set()
        fut.result(10)
        assert Photo.select().count() == 2


def test_settings_round_trip(tmp_path: Path) -> None:
    with Library.open(tmp_path / "lib") as lib:
        lib.set_setting("auto_tagging", "0.5")
        assert lib.auto_tagging == 0.5
        assert Setting.select().count() == 1


# The grid's sort orders, as main_window.SORTS offers them, plus the ascending ones the CLI can ask for.
SORT_CASES = [("date", False), ("date", True), ("name", False), ("name", True), ("size", False), ("size", True),
              ("rating", True), ("rating", False), ("imported", True)]  # fmt: skip


def _expected_order(rows: list[dict[str, object]], sort: str, descending: bool) -> list[int]:
    """The documented order, read plainly: the first key's missing values last either way, then the
    other keys and the id in the chosen direction (a missing value is the lowest, as in SQLite)."""
    keys = ({"date": ("taken_at", "filename"), "name": ("filename",), "size": ("size",),
             "rating": ("rating", "taken_at"), "imported": ()}[sort], "id")  # fmt: skip
    names = (*keys[0], keys[1])

    def compare(a: dict[str, object], b: dict[str, object]) -> int:
        for i, name in enumerate(names):
            va, vb = a[name], b[name]
            if i == 0 and (va is None) != (vb is None):
                return 1 if va is None else -1
            order = (va is not None, va) > (vb is not None, vb)  # type: ignore[operator]
            order_rev = (va is not None, va) < (vb is not None, vb)  # type: ignore[operator]
            c = int(order) - int(order_rev)
            if c:
                return -c if descending else c
        return 0

    return [int(r["id"]) for r in sorted(rows, key=functools.cmp_to_key(compare))]  # type: ignore[arg-type]


@pytest.mark.parametrize(("sort", "descending"), SORT_CASES)
def test_sort_orders_are_total_with_missing_values_last(
    tmp_path: Path, sort: str, descending: bool, catalog_url: str | None
) -> None:
    from app.core.catalog.queries import Filter, search_ids

    rows = []
    for n in range(1, 41):  # ties on every key, and missing dates and ratings
        taken = None if n % 7 == 0 else f"2020-0{1 + n % 3}-01T00:00:00"
        rows.append(_photo(n, filename=f"p{n % 5}.jpg", size=1000 + n % 4, taken_at=taken,
                           rating=None if n % 3 == 0 else n % 4, path=f"/photos/{n}/p{n % 5}.jpg"))  # fmt: skip
    with Library.open(tmp_path / "lib", auto_backup=False) as lib:
        lib.writer.call(lambda: Photo.insert_many(rows).execute())
        got = search_ids(Filter(sort=sort, descending=descending))
        stored = list(Photo.select(Photo.id, Photo.filename, Photo.size, Photo.taken_at, Photo.rating).dicts())
    assert got == _expected_order(stored, sort, descending)


@pytest.mark.parametrize(("sort", "descending"), [c for c in SORT_CASES if c != ("rating", False)])
def test_whole_library_sorts_come_off_a_covering_index(tmp_path: Path, sort: str, descending: bool) -> None:
    """At 100k photos a sort of every row costs ~120 ms per filter change, the index walk ~30 ms;
    with no statistics yet (a new library) too."""
    from app.core.catalog.models import Photo as P
    from app.core.catalog.queries import Filter, query

    with Library.open(tmp_path / "lib", auto_backup=False) as lib:
        lib.db.execute_sql("DROP TABLE IF EXISTS sqlite_stat1")
        for f in (Filter(sort=sort, descending=descending), Filter(sort=sort, descending=descending,
                                                                    statuses=("ok", "error"))):  # fmt: skip
            sql, params = query(f, P.id).sql()
            plan = " | ".join(r[3] for r in lib.db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
            assert "COVERING INDEX" in plan and "TEMP B-TREE" not in plan, plan
        # a filter on other columns scans for the matches and sorts only those
        sql, params = query(Filter(sort=sort, descending=descending, min_faces=1), P.id).sql()
        plan = " | ".join(r[3] for r in lib.db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
        assert "photo_sort_" not in plan, plan


def test_schema_4_catalog_moves_its_json_to_photo_detail(tmp_path: Path, corpus: Path) -> None:
    """Migration 5 on a real import: EXIF and colour JSON leave the photo table, nothing is lost, and
    the upgraded schema is that of a new catalog."""
    from app.core.catalog.models import DETAIL_COLUMNS
    from app.core.catalog.present import photo_json

    lib_dir = tmp_path / "lib"
    with Library.open(lib_dir) as lib:
        lib.import_folders([corpus / "exif"], analyze=False)
        lib.analyze(("colors",))
        shown = {p.id: photo_json(p) for p in Photo.select()}
    assert sum(1 for s in shown.values() if s["metadata"]["exif"] and s["colors"]) >= 40
    con = sqlite3.connect(lib_dir / "catalog.sqlite")
    new_schema = con.execute("PRAGMA table_info(photo)").fetchall()
    # back to schema 4: the JSON in photo's own columns, no photo_detail table
    for column in DETAIL_COLUMNS:
        con.execute(f"ALTER TABLE photo ADD COLUMN {column} TEXT")
        con.execute(f"UPDATE photo SET {column} = (SELECT {column} FROM photo_detail WHERE photo_id = photo.id)")
    con.execute("DROP TABLE photo_detail")
    con.execute("UPDATE schema_version SET version = 4")
    con.commit()
    con.close()

    with Library.open(lib_dir, auto_backup=False) as lib:
        assert SchemaVersion.get().version == SCHEMA_VERSION
        assert lib.db.execute_sql("PRAGMA table_info(photo)").fetchall() == new_schema
        assert {p.id: photo_json(p) for p in Photo.select()} == shown


def test_planner_statistics_follow_the_library(tmp_path: Path, corpus: Path) -> None:
    """A new catalog's statistics say its tables are empty; closing after an import refreshes them
    (PRAGMA optimize), so the planner picks indexes for the library as it is."""
    lib_dir = tmp_path / "lib"
    with Library.open(lib_dir, auto_backup=False) as lib:
        lib.import_folders([corpus / "exif"], analyze=False)
        photos = Photo.select().count()
    con = sqlite3.connect(lib_dir / "catalog.sqlite")
    try:
        stat = con.execute("SELECT stat FROM sqlite_stat1 WHERE idx = 'photo_sort_date'").fetchone()
    finally:
        con.close()
    assert stat is not None and int(stat[0].split()[0]) == photos > 40
