"""Pick flags and colour labels in the GUI: their keys (Lightroom's), names, colours, and the
inspector's row of flag and label buttons."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QToolButton, QWidget

from app.core.flags import PICK, REJECT, UNFLAGGED, flag_of

PICK_MARK = "⚑"
REJECTED_DIM = QColor(0, 0, 0, 110)  # over a rejected photo's thumbnail
# Lightroom's label colours, readable on light and dark themes
LABEL_COLORS = {"Red": QColor(220, 50, 47), "Yellow": QColor(240, 200, 30), "Green": QColor(70, 170, 70),
                "Blue": QColor(50, 120, 220), "Purple": QColor(150, 80, 200)}  # fmt: skip
# (flag, key) and (label, key) on the grid, as in Lightroom: P pick, X reject, U unflag; 6-9 labels
FLAG_KEYS = ((PICK, "P"), (REJECT, "X"), (UNFLAGGED, "U"))
LABEL_KEYS: tuple[tuple[str, str | None], ...] = (("Red", "6"), ("Yellow", "7"), ("Green", "8"), ("Blue", "9"),
                                                  ("Purple", None))  # fmt: skip
FLAG_TEXT = {PICK: "Flagged (Pick)", REJECT: "Rejected", UNFLAGGED: "Unflagged"}


class FlagLabelRow(QWidget):
    """Three flag buttons and five label swatches for the photo shown in the inspector."""

    flag_clicked = Signal(str)  # pick | reject | none
    label_clicked = Signal(object)  # a label name, or None to take it off (the current one clicked again)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.flag_buttons: dict[str, QToolButton] = {}
        group = QButtonGroup(self)
        for flag, text, key in ((PICK, PICK_MARK, "P"), (REJECT, "✕", "X"), (UNFLAGGED, "–", "U")):
            button = QToolButton(text=text, checkable=True, autoRaise=True)
            button.setFixedWidth(24)
            button.setToolTip(f"{FLAG_TEXT[flag]} ({key} on the grid)")
            button.setObjectName(f"flag-{flag}")
            button.clicked.connect(lambda _=False, f=flag: self.flag_clicked.emit(f))
            group.addButton(button)
            self.flag_buttons[flag] = button
            layout.addWidget(button)
        layout.addSpacing(6)
        self.label_buttons: dict[str, QToolButton] = {}
        for label, key in LABEL_KEYS:
            button = QToolButton(checkable=True, autoRaise=True)
            button.setFixedSize(18, 18)
            button.setObjectName(f"label-{label}")
            button.setToolTip(f"{label} label" + (f" ({key} on the grid)" if key else "") + "; click again to remove")
            color = LABEL_COLORS[label].name()
            button.setStyleSheet(
                f"QToolButton {{ background: {color}; border: 2px solid transparent; border-radius: 4px; }}"
                "QToolButton:checked { border: 2px solid palette(text); }"
            )
            button.clicked.connect(lambda _=False, name=label: self._label(name))
            self.label_buttons[label] = button
            layout.addWidget(button)
        layout.addStretch(1)
        self._label_now: str | None = None

    def show_values(self, rating: int | None, picked: bool, label: str | None) -> None:
        flag = flag_of(rating, picked)
        for name, button in self.flag_buttons.items():
            button.setChecked(name == flag)
        self._label_now = label
        for name, button in self.label_buttons.items():
            button.setChecked(name == label)

    def _label(self, name: str) -> None:
        self.label_clicked.emit(None if name == self._label_now else name)
