"""Pause and resume analysis, and how far it is: the Pause Analysis action (menu, toolbar, progress
panel, Ctrl+Shift+P) and the status bar's "Quick analysis 340/1000 · Faces & tags 120/1000".

The paused state is the library's (a catalog setting), so it survives a restart: a paused library
opens paused, an unpaused one resumes its unfinished analysis on start. While paused, an import
still adds its files (the grid lists them) and their analysis waits; Resume starts it.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel

from app.core.analysis.pipeline import Progress
from app.core.library import Library

PAUSE_TEXT, RESUME_TEXT = "&Pause Analysis", "&Resume Analysis"
SHORTCUT = "Ctrl+Shift+P"


class AnalysisControl(QObject):
    resume_requested = Signal()  # the window starts the analysis of what is unfinished

    def __init__(self, lib: Library, parent: QObject) -> None:
        super().__init__(parent)
        self.lib = lib
        self._paused = threading.Event()  # read by the job thread (is_paused) while the GUI flips it
        self.action = QAction(PAUSE_TEXT, parent)
        self.action.setCheckable(True)
        self.action.setShortcut(QKeySequence(SHORTCUT))
        self.label = QLabel()
        if lib.analysis_paused:
            self._paused.set()
            self.action.setChecked(True)
        self._show_action()
        self.action.toggled.connect(self._toggled)

    def is_paused(self) -> bool:
        """Safe to call from the job thread: the pipeline asks before handing out each photo."""
        return self._paused.is_set()

    def _toggled(self, paused: bool) -> None:
        self.lib.set_analysis_paused(paused)
        if paused:
            self._paused.set()
        else:
            self._paused.clear()
        self._show_action()
        if not paused:
            self.resume_requested.emit()

    def _show_action(self) -> None:
        paused = self.is_paused()
        self.action.setText(RESUME_TEXT if paused else PAUSE_TEXT)
        self.action.setStatusTip(
            "Go on analyzing: thumbnails, colors and duplicates first, then faces and tags"
            if paused
            else "Stop analyzing after the photos in progress, until you resume (also after a restart)"
        )

    def show_progress(self, p: Progress) -> None:
        tiers = p.tiers()
        if tiers:
            self.label.setText(tiers + (" · paused" if self.is_paused() else ""))

    def show_idle(self) -> None:
        """Between jobs: what waits while paused, nothing otherwise."""
        if not self.is_paused():
            self.label.setText("")
            return
        waiting = self.lib.unfinished_analysis()
        self.label.setText(f"Analysis paused · {waiting:,} photos waiting" if waiting else "Analysis paused")
