"""Color bars for the inspector: segments sized by percentage; hovering shows the value, clicking a
predominant-color segment asks to filter by that color."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QToolTip, QWidget

from app.core.palette import SWATCHES


class SwatchBar(QWidget):
    """One horizontal bar of (color, percent) segments. `names=True` when colors are palette names."""

    clicked = Signal(str, float)  # (color, percent)

    def __init__(self, names: bool, height: int = 22, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.names = names
        self.segments: list[tuple[str, float]] = []
        self.setMouseTracking(True)
        self.setFixedHeight(height)
        if names:
            self.setCursor(Qt.CursorShape.PointingHandCursor)

    def sizeHint(self) -> QSize:
        return QSize(260, self.height())

    def set_segments(self, segments: list[tuple[str, float]]) -> None:
        self.segments = [(c, float(p)) for c, p in segments if p > 0]
        self.update()

    def segment_rects(self) -> list[tuple[QRectF, str, float]]:
        total = sum(p for _, p in self.segments) or 1.0
        # percentages under 100 (small colors dropped) still fill the bar, in proportion
        x, out = 0.0, []
        for color, percent in self.segments:
            w = self.width() * percent / total
            out.append((QRectF(x, 0, w, self.height()), color, percent))
            x += w
        return out

    def segment_at(self, pos: QPoint) -> tuple[str, float] | None:
        for rect, color, percent in self.segment_rects():
            if rect.left() <= pos.x() < rect.right():
                return color, percent
        return None

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        for rect, color, _ in self.segment_rects():
            painter.fillRect(rect, QColor(SWATCHES.get(color, color)))
        painter.setPen(QColor(0, 0, 0, 80))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        painter.end()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        hit = self.segment_at(event.position().toPoint())
        if hit:
            QToolTip.showText(event.globalPosition().toPoint(), f"{hit[0]}  {hit[1]:.1f}%", self)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        hit = self.segment_at(event.position().toPoint())
        if hit and self.names and event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(*hit)
