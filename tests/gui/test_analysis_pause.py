"""Pause and resume analysis through the real widgets: the toolbar button, the progress panel's button
and the keyboard shortcut; the pause survives closing and reopening the library."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import QSettings, Qt

from app.core.catalog.models import Photo, StageState
from app.core.library import Library
from app.gui.main_window import MainWindow
from tests.gui.conftest import JOB_TIMEOUT_MS, run_import


def _photos(corpus: Path, dst: Path, count: int) -> Path:
    dst.mkdir()
    for p in sorted((corpus / "faces").glob("*.jpg"))[:count]:
        shutil.copy2(p, dst / p.name)
    return dst


def _analyzed_stages() -> int:
    return StageState.select().where(StageState.stage != "metadata").count()


def test_paused_library_imports_stays_paused_after_restart_and_resumes(qtbot, corpus: Path, tmp_path: Path) -> None:
    photos = _photos(corpus, tmp_path / "photos", 4)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    lib = Library.open(tmp_path / "lib")
    win = MainWindow(lib, settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.mouseClick(win.toolbar.widgetForAction(win.analysis.action), Qt.MouseButton.LeftButton)
    assert lib.analysis_paused and win.analysis.action.isChecked()
    assert win.analysis.action.text().replace("&", "") == "Resume Analysis"

    run_import(qtbot, win, photos)  # the files come in, their analysis waits
    assert win.model.rowCount() == 4 and _analyzed_stages() == 0
    assert win.analysis.label.text() == "Analysis paused · 4 photos waiting"
    assert "analysis paused" in win.progress_panel.title.text()
    win.close()
    lib.close()

    lib = Library.open(tmp_path / "lib")
    again = MainWindow(lib, settings)
    qtbot.addWidget(again)
    again.show()
    qtbot.wait(300)  # the start-up resume would have begun by now
    assert again.analysis.action.isChecked() and not again.runner.is_running()
    assert again.analysis.label.text() == "Analysis paused · 4 photos waiting"
    with qtbot.waitSignal(again.runner.finished, timeout=JOB_TIMEOUT_MS):
        qtbot.keyClick(again, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert not lib.analysis_paused and not again.analysis.action.isChecked()
    assert lib.unfinished_analysis() == 0 and again.analysis.label.text() == ""
    assert Photo.select().where(Photo.thumb_key.is_null(False)).count() == 4
    lib.close()


def test_pause_button_of_the_progress_panel_stops_a_running_import(qtbot, window, corpus: Path, tmp_path: Path) -> None:
    photos = _photos(corpus, tmp_path / "photos", 8)
    with qtbot.waitSignal(window.runner.progress, timeout=JOB_TIMEOUT_MS):
        assert window.start_import([photos])
    assert window.progress_panel.pause.isVisible()
    with qtbot.waitSignal(window.runner.finished, timeout=JOB_TIMEOUT_MS) as finished:
        qtbot.mouseClick(window.progress_panel.pause, Qt.MouseButton.LeftButton)
    report = finished.args[0]
    assert window.lib.analysis_paused and report.run.paused
    assert report.count("new") == 8 and window.model.rowCount() == 8  # every file imported
    waiting = window.lib.unfinished_analysis()
    assert waiting > 0 and window.analysis.label.text() == f"Analysis paused · {waiting} photos waiting"
    with qtbot.waitSignal(window.runner.finished, timeout=JOB_TIMEOUT_MS):  # the same button resumes
        qtbot.mouseClick(window.toolbar.widgetForAction(window.analysis.action), Qt.MouseButton.LeftButton)
    assert window.lib.unfinished_analysis() == 0 and not window.lib.analysis_paused
