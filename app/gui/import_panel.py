"""The progress panel for long work (import, analysis): counts, rate, ETA, each analysis tier's
count, current file, the files that failed, Pause Analysis and Cancel."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QToolButton,
    QWidget,
)

from app.core.analysis.pipeline import Progress, format_duration

PHASES = {"scanning": "Scanning folders", "importing": "Importing", "analyzing": "Analyzing", "done": "Finishing"}


class ProgressPanel(QWidget):
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        self.bar = QProgressBar()
        self.counts = QLabel()
        self.title.setWordWrap(True)  # a long summary wraps instead of widening the window
        self.current = QLabel()
        self.current.setMinimumWidth(200)
        self.errors = QListWidget(maximumHeight=90)
        self.errors.setVisible(False)
        self.cancel = QPushButton("Cancel")
        self.cancel.setToolTip("Stop after the files in progress; everything done so far is kept (Esc)")
        self.cancel.clicked.connect(self._cancel)
        self.pause = QToolButton()  # shows the window's Pause Analysis action: see set_pause_action
        self.pause.setVisible(False)
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 4, 8, 4)
        grid.addWidget(self.title, 0, 0, 1, 4)  # its own row: a summary as long as the window is wide
        grid.addWidget(self.bar, 1, 0)
        grid.addWidget(self.counts, 1, 1)
        grid.addWidget(self.pause, 1, 2)
        grid.addWidget(self.cancel, 1, 3)
        grid.addWidget(self.current, 2, 0, 1, 4)
        grid.addWidget(self.errors, 3, 0, 1, 4)
        grid.setColumnStretch(0, 1)
        self._last: Progress | None = None
        self.setVisible(False)

    def set_pause_action(self, action: QAction) -> None:
        self.pause.setDefaultAction(action)
        self.pause.setVisible(True)

    def start(self, title: str) -> None:
        self._last = None
        self.title.setText(f"<b>{title}</b>")
        self.bar.setRange(0, 0)  # busy until the total is known
        self.counts.setText("")
        self.current.setText("")
        self.errors.clear()
        self.errors.setVisible(False)
        self.cancel.setEnabled(True)
        self.cancel.setText("Cancel")
        self.setVisible(True)

    def update_progress(self, p: Progress) -> None:
        self.title.setText(f"<b>{PHASES.get(p.phase, p.phase)}</b>")
        if p.total:
            self.bar.setRange(0, p.total)
            self.bar.setValue(p.done)
        self._last = p
        self.counts.setText(self._counts(p, running=True))
        self.current.setText(
            self.current.fontMetrics().elidedText(p.current, Qt.TextElideMode.ElideMiddle, max(200, self.width() - 40))
        )

    @staticmethod
    def _counts(p: Progress, running: bool) -> str:
        failed = f" · {p.failed} failed" if p.failed else ""
        done = p.tiers() or f"{p.done:,} of {p.total:,}"
        if not running:
            return done + failed
        eta = f" · about {format_duration(p.eta_s)} left" if p.eta_s is not None and p.done < p.total else ""
        return f"{done} · {p.rate:.1f}/s{eta}{failed}"

    def add_errors(self, failures: list[tuple[str, str]]) -> None:
        for path, reason in failures:
            self.errors.addItem(f"{path}: {reason}")
        self.errors.setVisible(self.errors.count() > 0)

    def finish(self, summary: str) -> None:
        self.title.setText(f"<b>{summary}</b>")
        if self._last is not None:  # what was done, without a rate or a time left
            self.counts.setText(self._counts(self._last, running=False))
        self.bar.setRange(0, 1)
        self.bar.setValue(1)
        self.cancel.setText("Close")
        self.cancel.setEnabled(True)

    def _cancel(self) -> None:
        if self.cancel.text() == "Close":
            self.setVisible(False)
            return
        self.cancel.setEnabled(False)
        self.cancel.setText("Cancelling…")
        self.cancel_requested.emit()
