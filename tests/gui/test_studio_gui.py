"""The desktop app on a studio catalog (PostgreSQL): another workstation's edit reaches the window,
thumbnails another workstation made are made again in this one's own cache, and File > Open Studio
Catalog… switches the window to the server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QSettings

from app.core.analysis.thumbnails import SMALL, thumb_path
from app.core.catalog.models import Photo
from app.core.library import Library
from app.gui import studio
from app.gui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]


def _window(qtbot, lib: Library, tmp_path: Path) -> MainWindow:
    win = MainWindow(lib, QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    return win


def test_other_workstations_edits_and_thumbnails_reach_the_window(
    qtbot, tmp_path: Path, corpus: Path, pg_url: str
) -> None:
    photos = tmp_path / "photos"
    shutil.copytree(corpus / "faces", photos)
    with Library.open(tmp_path / "workstation-a", catalog=pg_url) as a:  # analyses into its own cache
        a.import_folders([photos], processes=2)
    lib = Library.open(tmp_path / "workstation-b", catalog=pg_url)  # an empty thumbnail cache
    win = _window(qtbot, lib, tmp_path)
    try:
        first = win.model.photo_id(0)
        key = Photo.get_by_id(first).thumb_key
        assert not thumb_path(lib.thumbs_dir, key, SMALL).exists()
        qtbot.waitUntil(lambda: win.thumbs.get(first, key) is not None, timeout=60_000)
        assert thumb_path(lib.thumbs_dir, key, SMALL).is_file()  # made here, from the photo

        select = QItemSelectionModel.SelectionFlag.ClearAndSelect
        win.grid.selectionModel().setCurrentIndex(win.model.index(win.model.row_of(first)), select)
        env = {**os.environ, "TESSERA_CATALOG": pg_url, "TESSERA_WORKSTATION": "a", "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, "-m", "app", "--library", str(tmp_path / "workstation-a"), "rate", "4",
                               str(first)], cwd=ROOT, env=env, capture_output=True, text=True)  # fmt: skip
        assert done.returncode == 0, done.stderr
        qtbot.waitUntil(lambda: win.model.info(win.model.row_of(first)).rating == 4, timeout=30_000)
        assert "changed on another workstation" in win.statusBar().currentMessage()
        assert win.inspector.stars.rating() == 4
        win.grab().save(str(tmp_path / "studio.png"))
    finally:
        win.thumbs.close()
        lib.close()


def test_open_studio_catalog_switches_to_the_server(qtbot, tmp_path: Path, pg_url: str, monkeypatch) -> None:
    lib = Library.open(tmp_path / "lib", catalog=str(tmp_path / "lib" / "catalog.sqlite"))
    win = _window(qtbot, lib, tmp_path)
    monkeypatch.setattr(studio.QInputDialog, "getText", lambda *a, **k: (pg_url, True))
    with qtbot.waitSignal(win.library_opened, timeout=30_000) as opened:
        win.open_studio_catalog()
    studio_lib = opened.args[0]
    try:
        assert studio_lib.is_studio and studio_lib.root == lib.root
        assert '"catalog": "postgresql://' in (lib.root / "library.json").read_text()
    finally:
        win.thumbs.close()
        studio_lib.close()
        lib.close()


def test_a_name_given_on_another_workstation_reaches_the_people_window(
    qtbot, tmp_path: Path, corpus: Path, pg_url: str
) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("bar55.jpg", "bar55_2.jpg", "cold_water.jpg", "pool_2.jpg"):
        shutil.copy2(corpus / "people" / "kphotoalbum" / name, photos / name)
    lib = Library.open(tmp_path / "workstation-a", catalog=pg_url)
    lib.import_folders([photos], processes=1)
    win = _window(qtbot, lib, tmp_path)
    try:
        people = win.show_people()
        group = people.current
        assert group is not None and group.name is None
        env = {**os.environ, "TESSERA_CATALOG": pg_url, "TESSERA_WORKSTATION": "b", "PYTHONPATH": str(ROOT)}
        naming = ["people", "name", str(group.id), "Jesper"]
        done = subprocess.run([sys.executable, "-m", "app", "--library", str(tmp_path / "workstation-b"), *naming],
                              cwd=ROOT, env=env, capture_output=True, text=True)  # fmt: skip
        assert done.returncode == 0, done.stderr
        qtbot.waitUntil(lambda: any(r.name == "Jesper" for r in people.person_model.rows), timeout=30_000)
        jesper = next(r for r in people.person_model.rows if r.name == "Jesper")
        assert jesper.faces == group.faces and win.sidebar.find("person", jesper.id) is not None
        people.close()
    finally:
        win.thumbs.close()
        lib.close()
