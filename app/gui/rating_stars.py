"""Star ratings in the GUI: how a rating is written (menus, status bar, grid badges) and the
inspector's row of five clickable stars."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QEnterEvent, QFont, QMouseEvent, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QWidget

MAX_STARS = 5
REJECTED = -1
STAR, EMPTY_STAR, REJECT_MARK = "★", "☆", "✕"
STAR_COLOR = QColor(245, 190, 30)  # gold reads on light and dark themes alike, and on photos
REJECTED_COLOR = QColor(225, 60, 60)
# (rating, key) in the grid and the viewer, as in Lightroom: 0 clears, 1-5 stars, X rejects
RATING_KEYS: tuple[tuple[int | None, str], ...] = ((None, "0"), *((n, str(n)) for n in range(1, MAX_STARS + 1)),
                                                   (REJECTED, "X"))  # fmt: skip


def rating_text(rating: int | None) -> str:
    """A rating as menus, the status bar and the grid write it: "★★★", "Rejected" or "No Rating".
    0, which sidecars may carry, is unrated as in the XMP spec (and everywhere here: `not rating`)."""
    if rating == REJECTED:
        return "Rejected"
    return STAR * rating if rating else "No Rating"


class RatingStars(QWidget):
    """Five stars showing a photo's rating. A click on a star sets that many stars; a click on the
    star of the current rating clears it. Hovering previews the rating a click would set."""

    rating_clicked = Signal(object)  # the new rating: 1-5, or None to clear

    STAR_PX = 20

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rating: int | None = None
        self._hover = 0  # the star under the mouse, 1-5, or 0
        self._star_font = QFont(self.font())  # stars bigger than the text, to be hit easily
        self._star_font.setPixelSize(self.STAR_PX - 4)
        self.setMouseTracking(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        tip = "Click a star to rate, the same one again to clear.\nOn the grid: 1-5 rate, 0 clears, X rejects."
        self.setToolTip(tip)

    def rating(self) -> int | None:
        return self._rating

    def set_rating(self, rating: int | None) -> None:
        self._rating = rating
        self.update()

    def star_rect(self, star: int) -> QRect:
        """Where star 1-5 is drawn (and clicked)."""
        return QRect((star - 1) * self.STAR_PX, 0, self.STAR_PX, self.STAR_PX)

    def star_at(self, pos: QPoint) -> int:
        return next((s for s in range(1, MAX_STARS + 1) if self.star_rect(s).contains(pos)), 0)

    def sizeHint(self) -> QSize:
        label = self.fontMetrics().horizontalAdvance("Rejected") + 6  # room for the rejected label
        return QSize(MAX_STARS * self.STAR_PX + label, self.STAR_PX)

    # -- events -----------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        rating = self._rating or 0
        filled = self._hover or max(rating, 0)
        empty = self.palette().color(QPalette.ColorRole.PlaceholderText)
        painter.setFont(self._star_font)
        for star in range(1, MAX_STARS + 1):
            painter.setPen(STAR_COLOR if star <= filled else empty)
            painter.drawText(self.star_rect(star), Qt.AlignmentFlag.AlignCenter, STAR if star <= filled else EMPTY_STAR)
        if rating == REJECTED and not self._hover:
            painter.setPen(REJECTED_COLOR)
            painter.setFont(self.font())
            label = self.rect().adjusted(MAX_STARS * self.STAR_PX + 4, 0, 0, 0)
            align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
            painter.drawText(label, align, "Rejected")

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._set_hover(self.star_at(event.position().toPoint()))

    def enterEvent(self, event: QEnterEvent) -> None:
        self._set_hover(self.star_at(event.position().toPoint()))

    def leaveEvent(self, event: QEvent) -> None:
        self._set_hover(0)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        star = self.star_at(event.position().toPoint())
        if event.button() == Qt.MouseButton.LeftButton and star:
            self._set_hover(0)  # show the result, not the preview, until the mouse moves again
            self.rating_clicked.emit(None if star == self._rating else star)

    def _set_hover(self, star: int) -> None:
        if star != self._hover:
            self._hover = star
            self.update()
