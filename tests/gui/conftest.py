"""GUI fixtures: a main window over a temporary library, with settings kept out of the user's."""

from __future__ import annotations

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


def run_import(qtbot, win: MainWindow, folder: Path) -> None:
    with qtbot.waitSignal(win.runner.finished, timeout=JOB_TIMEOUT_MS):
        assert win.start_import([folder])
