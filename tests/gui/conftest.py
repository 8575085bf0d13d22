"""GUI fixtures: a main window over a temporary library, with settings kept out of the user's."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from app.core.library import Library
from app.gui.main_window import MainWindow

JOB_TIMEOUT_MS = 300_000


@pytest.fixture
def window(qtbot, tmp_path: Path) -> Iterator[MainWindow]:
    lib = Library.open(tmp_path / "lib")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(lib, settings)
    qtbot.addWidget(win)
    win.show()
    yield win
    if win.runner.is_running():
        win.runner.cancel()
        win.runner.wait(120)
    win.thumbs.close()
    lib.close()


PHOTOS = ("flower.jpg", "flower2.jpg", "hopper_orientation_2.jpg", "hopper_orientation_3.jpg",
          "hopper_orientation_4.jpg", "hopper_orientation_5.jpg")  # fmt: skip


@pytest.fixture
def photos_window(qtbot, window: MainWindow, corpus: Path, tmp_path: Path) -> MainWindow:
    """The main window over six corpus photos (copies), imported and analyzed for real."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in PHOTOS:
        shutil.copy(corpus / "exif" / name, folder / name)
    run_import(qtbot, window, folder)
    assert window.model.rowCount() == len(PHOTOS)
    return window


def run_import(qtbot, win: MainWindow, folder: Path) -> None:
    with qtbot.waitSignal(win.runner.finished, timeout=JOB_TIMEOUT_MS):
        assert win.start_import([folder])
