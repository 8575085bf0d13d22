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
        self.current = QLabel()
        self.current.setMinimumWidth(200)
        self.errors = QListWidget(maximumHeight=90)
        self.errors.setVisible(False)
        self.cancel = QPushButton("Cancel")
        self.cancel.setToolTip("Stop after the files in progress; everything done so far is kept (Esc)")
        self.cancel.clicked.connect(self._cancel)
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 4, 8, 4)
        grid.addWidget(self.title, 0, 0)
        grid.addWidget(self.bar, 0, 1)
        grid.addWidget(self.counts, 0, 2)
        self.pause = QToolButton()  # shows the window's Pause Analysis action: see set_pause_action
        self.pause.setVisible(False)
        grid.addWidget(self.pause, 0, 3)
        grid.addWidget(self.cancel, 0, 4)
        grid.addWidget(self.current, 1, 0, 1, 5)
        grid.addWidget(self.errors, 2, 0, 1, 5)
        grid.setColumnStretch(1, 1)
        self.setVisible(False)

    def set_pause_action(self, action: QAction) -> None:
        self.pause.setDefaultAction(action)
        self.pause.setVisible(True)

    def start(self, title: str) -> None:
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
        eta = f" · about {format_duration(p.eta_s)} left" if p.eta_s is not None and p.done < p.total else ""
        failed = f" · {p.failed} failed" if p.failed else ""
        done = p.tiers() or f"{p.done:,} of {p.total:,}"
        self.counts.setText(f"{done} · {p.rate:.1f}/s{eta}{failed}")
        self.current.setText(
            self.current.fontMetrics().elidedText(p.current, Qt.TextElideMode.ElideMiddle, max(200, self.width() - 40))
        )

    def add_errors(self, failures: list[tuple[str, str]]) -> None:
        for path, reason in failures:
            self.errors.addItem(f"{path}: {reason}")
        self.errors.setVisible(self.errors.count() > 0)

    def finish(self, summary: str) -> None:
        self.title.setText(f"<b>{summary}</b>")
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
