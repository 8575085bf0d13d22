"""Paints one grid cell: the cached thumbnail (or a placeholder while it loads), the file name and
badges for faces, duplicates and errors."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from app.gui.grid_model import PhotoRole, RowInfo
from app.gui.thumbs import ThumbnailCache

TEXT_HEIGHT = 18
PADDING = 6
BADGE_FACE = QColor(40, 120, 220)
BADGE_DUP = QColor(200, 120, 20)
BADGE_ERROR = QColor(200, 40, 40)


class GridDelegate(QStyledItemDelegate):
    def __init__(self, thumbs: ThumbnailCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.thumbs = thumbs
        self.thumb_size = 160

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(self.thumb_size + 2 * PADDING, self.thumb_size + TEXT_HEIGHT + 2 * PADDING)

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        info: RowInfo = index.data(PhotoRole)
        palette = option.palette  # type: ignore[attr-defined]
        rect: QRect = option.rect  # type: ignore[attr-defined]
        selected = bool(option.state & QStyle.StateFlag.State_Selected)  # type: ignore[attr-defined]
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if selected:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(palette.color(QPalette.ColorRole.Highlight))
            painter.drawRoundedRect(rect.adjusted(2, 2, -2, -2), 6, 6)
        image_box = QRect(rect.x() + PADDING, rect.y() + PADDING, self.thumb_size, self.thumb_size)
        self._paint_image(painter, image_box, info, palette)
        self._paint_badges(painter, image_box, info)
        text_rect = QRect(rect.x() + PADDING, image_box.bottom() + 2, self.thumb_size, TEXT_HEIGHT)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.setPen(palette.color(role))
        name = painter.fontMetrics().elidedText(info.filename, Qt.TextElideMode.ElideMiddle, self.thumb_size)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignCenter, name)
        painter.restore()

    def _paint_image(self, painter: QPainter, box: QRect, info: RowInfo, palette: QPalette) -> None:
        size = 320 if self.thumb_size <= 320 else 1024
        pixmap = self.thumbs.get(info.id, info.thumb_key, size) if info.status == "ok" else None
        if pixmap is None:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(palette.color(QPalette.ColorRole.AlternateBase))
            painter.drawRoundedRect(box, 4, 4)
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            label = "Cannot read" if info.status == "error" else ("Missing" if info.status == "missing" else "")
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, label)
            return
        scaled = pixmap.size().scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
        target = QRect(0, 0, scaled.width(), scaled.height())
        target.moveCenter(box.center())
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawPixmap(target, pixmap)

    def _paint_badges(self, painter: QPainter, box: QRect, info: RowInfo) -> None:
        badges: list[tuple[str, QColor]] = []
        if info.status == "error":
            badges.append(("!", BADGE_ERROR))
        if info.duplicate:
            badges.append(("DUP", BADGE_DUP))
        if info.face_count:
            badges.append((f"☺ {info.face_count}", BADGE_FACE))
        font = QFont(painter.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.8))
        font.setBold(True)
        painter.setFont(font)
        x = box.x() + 4
        for text, color in badges:
            width = painter.fontMetrics().horizontalAdvance(text) + 10
            badge = QRectF(x, box.y() + 4, width, 16)
            path = QPainterPath()
            path.addRoundedRect(badge, 8, 8)
            painter.fillPath(path, color)
            painter.setPen(QColor("white"))
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
            x += width + 4
