"""The offline map: land and country borders from Natural Earth (app/core/places/outlines.py), the
library's geotagged photos as clustered markers with counts (app/core/places/clusters.py), in Web
Mercator. No tiles, no network.

Wheel zooms around the cursor, a drag pans, a click on a cluster shows its photos in the grid, a
Shift+drag selects a rectangle of photos; the selected photos' clusters are ringed. Panning stays
smooth with 100k photos (bench/map_bench.py): the land is drawn into a pixmap larger than the view
and only redrawn when a pan leaves it or the zoom changes; each frame paints that pixmap and the few
hundred clusters on screen.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
    QPolygonF,
    QResizeEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

from app.core.places import outlines
from app.core.places.clusters import MAX_ZOOM, Markers
from app.core.places.mercator import to_lat_lon, to_world
from app.core.places.outlines import TILE

Area = tuple[float, float, float, float]  # south, west, north, east (degrees)
WHEEL_STEP = 0.5  # zoom levels per wheel notch
DRAG_SLOP = 4  # pixels a press may move and still be a click
ATTRIBUTION = "Natural Earth · GeoNames"
TILES = 16  # the land is drawn in TILES x TILES groups of rings, those off screen skipped


def _colors(palette: QPalette) -> tuple[QColor, QColor, QColor, QColor]:
    """(sea, land, border, marker) for the light or the dark theme."""
    dark = palette.color(QPalette.ColorRole.Window).lightness() < 128
    if dark:
        return QColor("#1b2730"), QColor("#3b3d38"), QColor("#6d706a"), QColor("#e0803a")
    return QColor("#c9dce8"), QColor("#f3efe4"), QColor("#a6a299"), QColor("#d9622b")


class MapView(QWidget):
    area_picked = Signal(object, str)  # (south, west, north, east), a label for the filter chip
    clicked = Signal()  # a click on a map that is not interactive (the inspector's)

    def __init__(self, parent: QWidget | None = None, *, interactive: bool = True) -> None:
        super().__init__(parent)
        self.interactive = interactive
        self.markers = Markers(np.empty(0, np.int64), np.empty(0), np.empty(0))
        self.zoom = 1.0
        self.center = (0.5, 0.5)  # world x, y at the middle of the widget
        self.spot: tuple[float, float] | None = None  # a pin (lat, lon): the inspector's mini map
        self._selected = np.zeros(0, bool)
        self._selected_clusters: dict[int, np.ndarray] = {}
        self._land: QPixmap | None = None
        self._land_key: tuple[float, int, int, int] | None = None  # zoom, land colour, size
        self._land_origin = (0.0, 0.0)  # world x, y at the pixmap's top left
        self._paths: dict[int, list[tuple[np.ndarray, QPainterPath]]] = {}
        self._sprites: dict[tuple[str, int, bool, int, float], QPixmap] = {}
        self._fit_pending = False
        self._press: QPointF | None = None
        self._press_center = self.center
        self._rubber: QRectF | None = None
        self.setMouseTracking(False)
        self.setMinimumSize(160, 120)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus if interactive else Qt.FocusPolicy.NoFocus)
        if interactive:
            self.setCursor(Qt.CursorShape.OpenHandCursor)
            self.setToolTip("Wheel: zoom · drag: pan · click a cluster: show its photos · Shift+drag: select an area")

    def sizeHint(self) -> QSize:
        return QSize(640, 360)

    # -- content ----------------------------------------------------------------------------------
    def set_markers(self, markers: Markers) -> None:
        self.markers = markers
        self._selected = np.zeros(len(markers), bool)
        self._selected_clusters.clear()
        self.update()

    def set_selected(self, ids: Iterable[int]) -> None:
        self._selected = np.isin(self.markers.ids, np.fromiter(ids, np.int64))
        self._selected_clusters.clear()
        self.update()

    def set_spot(self, lat: float | None, lon: float | None, zoom: float = 6.0) -> None:
        """Show one position with a pin (None: no position)."""
        self.spot = None if lat is None or lon is None else (lat, lon)
        if self.spot is not None:
            x, y = to_world(np.array([lat]), np.array([lon]))
            self.center, self.zoom = (float(x[0]), float(y[0])), zoom
        self.update()

    def fit(self) -> None:
        """Zoom and center to show every marker (the whole world without any); once the widget has
        its size when it has none yet."""
        if not self.isVisible():
            self._fit_pending = True
            return
        self._fit_pending = False
        bounds = self.markers.bounds
        if bounds is None:
            self.center, self.zoom = (0.5, 0.5), self._min_zoom()
        else:
            x0, y0, x1, y1 = bounds
            fit_x = math.log2(max(1, self.width() * 0.85) / (TILE * max(x1 - x0, 1e-6)))
            fit_y = math.log2(max(1, self.height() * 0.8) / (TILE * max(y1 - y0, 1e-6)))
            fit = min(fit_x, fit_y)
            self.center = ((x0 + x1) / 2, (y0 + y1) / 2)
            self.zoom = min(14.0, max(self._min_zoom(), fit))
        self.update()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fit_pending:
            self.fit()

    # -- geometry ---------------------------------------------------------------------------------
    @property
    def scale(self) -> float:
        """Pixels per world unit."""
        return TILE * 2**self.zoom

    def _min_zoom(self) -> float:
        return math.log2(max(1, self.height()) / TILE)  # the world fills the view's height (and repeats sideways)

    def top_left(self) -> tuple[float, float]:
        return self.center[0] - self.width() / 2 / self.scale, self.center[1] - self.height() / 2 / self.scale

    def to_screen(self, x: float, y: float) -> QPointF:
        x0, y0 = self.top_left()
        return QPointF((x - x0) * self.scale, (y - y0) * self.scale)

    def to_world_point(self, p: QPointF) -> tuple[float, float]:
        x0, y0 = self.top_left()
        return x0 + p.x() / self.scale, y0 + p.y() / self.scale

    def _clamp(self) -> None:
        self.zoom = min(MAX_ZOOM, max(self._min_zoom(), self.zoom))
        half = self.height() / 2 / self.scale
        x, y = self.center
        self.center = (x % 1.0, min(max(y, half), 1 - half) if half < 0.5 else 0.5)

    def zoom_at(self, p: QPointF, steps: float) -> None:
        before = self.to_world_point(p)
        self.zoom += steps
        self._clamp()
        after = self.to_world_point(p)
        self.center = (self.center[0] + before[0] - after[0], self.center[1] + before[1] - after[1])
        self._clamp()
        self.update()

    def pan_by(self, dx: float, dy: float) -> None:
        """Move the view by (dx, dy) pixels."""
        self.center = (self.center[0] - dx / self.scale, self.center[1] - dy / self.scale)
        self._clamp()
        self.update()

    # -- painting ---------------------------------------------------------------------------------
    def paintEvent(self, _event: QPaintEvent) -> None:
        sea, land, border, marker = _colors(self.palette())
        self._clamp()
        painter = QPainter(self)
        self._draw_land(painter, sea, land, border)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if len(self.markers):
            self._draw_clusters(painter, marker)
        if self.spot is not None:
            self._draw_pin(painter, marker)
        if self._rubber is not None:
            painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Highlight), 1.5, Qt.PenStyle.DashLine))
            highlight = QColor(self.palette().color(QPalette.ColorRole.Highlight))
            highlight.setAlpha(40)
            painter.setBrush(highlight)
            painter.drawRect(self._rubber)
        if self.interactive:
            self._draw_attribution(painter)
        painter.end()

    def _draw_land(self, painter: QPainter, sea: QColor, land: QColor, border: QColor) -> None:
        x0, y0 = self.top_left()
        margin_x, margin_y = self.width() // 2, self.height() // 2
        key = (self.zoom, land.rgb(), self.width(), self.height())
        if self._land is not None and self._land_key == key:
            ox = (x0 - self._land_origin[0]) * self.scale
            if not 0 <= ox <= 2 * margin_x:  # the world repeats every `scale` pixels
                ox %= self.scale
            oy = (y0 - self._land_origin[1]) * self.scale
            if 0 <= ox <= 2 * margin_x and 0 <= oy <= 2 * margin_y:
                painter.drawPixmap(QPointF(-ox, -oy), self._land)
                return
        origin = (x0 - margin_x / self.scale, y0 - margin_y / self.scale)
        size = (self.width() + 2 * margin_x, self.height() + 2 * margin_y)
        self._land = self._render_land(origin, *size, sea, land, border)
        self._land_key, self._land_origin = key, origin
        painter.drawPixmap(QPointF(-margin_x, -margin_y), self._land)

    def _render_land(
        self, origin: tuple[float, float], w: int, h: int, sea: QColor, land: QColor, border: QColor
    ) -> QPixmap:
        pixmap = QPixmap(w, h)
        pixmap.fill(sea)  # opaque: each frame copies it instead of blending it
        pieces = self._paths_of(outlines.level_for(self.zoom))
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(border, 0.8)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(land)
        scale = self.scale
        view_w, view_h = w / scale, h / scale
        for shift in range(math.floor(origin[0]), math.floor(origin[0] + view_w) + 1):  # copies of the world
            left, top = origin[0] - shift, origin[1]
            painter.setTransform(QTransform(scale, 0, 0, scale, -left * scale, -top * scale))
            for box, path in pieces:
                if box[2] >= left and box[0] <= left + view_w and box[3] >= top and box[1] <= top + view_h:
                    painter.drawPath(path)
        painter.end()
        return pixmap

    def _paths_of(self, index: int) -> list[tuple[np.ndarray, QPainterPath]]:
        """The level's rings as a few paths, one per tile of the world (TILES x TILES), each with
        its bounding box: one draw call per tile on screen instead of one per ring. Even-odd fill
        over a whole tile is still right: countries touch but never overlap, and a hole (Lesotho
        in South Africa) is a ring of both."""
        if index not in self._paths:
            level = outlines.level(index)
            centre = (level.boxes[:, :2] + level.boxes[:, 2:]) / 2
            tile = np.minimum((centre * TILES).astype(int), TILES - 1)
            pieces = []
            for key in np.unique(tile[:, 0] * TILES + tile[:, 1]):
                members = np.flatnonzero(tile[:, 0] * TILES + tile[:, 1] == key)
                path = QPainterPath()
                path.setFillRule(Qt.FillRule.OddEvenFill)
                for i in members:
                    path.addPolygon(QPolygonF([QPointF(x, y) for x, y in level.rings[i].tolist()]))
                    path.closeSubpath()
                box = level.boxes[members]
                pieces.append((np.array([box[:, 0].min(), box[:, 1].min(), box[:, 2].max(), box[:, 3].max()]), path))
            self._paths[index] = pieces
        return self._paths[index]

    def visible_clusters(self) -> list[tuple[int, QPointF, float]]:
        """(cluster index, screen position, radius) of the clusters on screen at this zoom."""
        clusters = self.markers.at(self.zoom)
        x0, y0 = self.top_left()
        scale = self.scale
        out = []
        span = self.width() / scale
        for shift in range(math.floor(x0) - 1, math.floor(x0 + span) + 1):
            sx = (clusters.x + shift - x0) * scale
            sy = (clusters.y - y0) * scale
            on = np.flatnonzero((sx > -40) & (sx < self.width() + 40) & (sy > -40) & (sy < self.height() + 40))
            for i in on:
                out.append((int(i), QPointF(sx[i], sy[i]), 8 + 3.5 * math.log10(int(clusters.count[i]))))
        return out

    def _selected_in(self, zoom: int) -> np.ndarray:
        if zoom not in self._selected_clusters:
            clusters = self.markers.at(zoom)
            hits = np.bincount(clusters.member, self._selected.astype(float), len(clusters.count))
            self._selected_clusters[zoom] = hits > 0
        return self._selected_clusters[zoom]

    def _draw_clusters(self, painter: QPainter, color: QColor) -> None:
        clusters = self.markers.at(self.zoom)
        selected = self._selected_in(clusters.zoom) if self._selected.any() else None
        ratio = self.devicePixelRatioF()
        for i, pos, radius in self.visible_clusters():
            ringed = selected is not None and bool(selected[i])
            sprite = self._sprite(_count_text(int(clusters.count[i])), round(radius), ringed, color, ratio)
            half = sprite.width() / ratio / 2
            painter.drawPixmap(QPointF(pos.x() - half, pos.y() - half), sprite)

    def _sprite(self, text: str, radius: int, ringed: bool, color: QColor, ratio: float) -> QPixmap:
        """A cluster marker, drawn once and then blitted: an antialiased circle with a stroked
        outline costs ~50x a blit, and a frame has hundreds of them."""
        key = (text, radius, ringed, color.rgb(), ratio)
        sprite = self._sprites.get(key)
        if sprite is None:
            size = 2 * radius + 8
            sprite = QPixmap(round(size * ratio), round(size * ratio))
            sprite.setDevicePixelRatio(ratio)
            sprite.fill(Qt.GlobalColor.transparent)
            p = QPainter(sprite)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            fill = QColor(color)
            fill.setAlpha(215)
            p.setBrush(fill)
            highlight = self.palette().color(QPalette.ColorRole.Highlight)
            p.setPen(QPen(highlight, 3.5) if ringed else QPen(QColor(255, 255, 255, 230), 1.5))
            centre = QPointF(size / 2, size / 2)
            p.drawEllipse(centre, radius, radius)
            font = QFont(self.font())
            font.setPixelSize(11)
            font.setBold(True)
            p.setFont(font)
            p.setPen(Qt.GlobalColor.white)
            p.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, text)
            p.end()
            self._sprites[key] = sprite
        return sprite

    def _draw_pin(self, painter: QPainter, color: QColor) -> None:
        x, y = to_world(np.array([self.spot[0]]), np.array([self.spot[1]]))  # type: ignore[index]
        p = self.to_screen(float(x[0]), float(y[0]))
        painter.setPen(QPen(Qt.GlobalColor.white, 2))
        painter.setBrush(color)
        painter.drawEllipse(p, 6, 6)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(color, 1.5))
        painter.drawEllipse(p, 12, 12)

    def _draw_attribution(self, painter: QPainter) -> None:
        font = QFont(self.font())
        font.setPixelSize(10)
        painter.setFont(font)
        text_rect = painter.fontMetrics().boundingRect(ATTRIBUTION).adjusted(-4, -1, 4, 1)
        text_rect.moveBottomRight(self.rect().bottomRight() - QRect(0, 0, 2, 2).bottomRight())
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(QColor(255, 255, 255, 150)))
        painter.drawRect(text_rect)
        painter.setPen(QColor(60, 60, 60))
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignCenter, ATTRIBUTION)

    # -- interaction ------------------------------------------------------------------------------
    def cluster_at(self, p: QPointF) -> int | None:
        best = None
        for i, pos, radius in self.visible_clusters():
            d = math.hypot(pos.x() - p.x(), pos.y() - p.y())
            if d <= radius + 2 and (best is None or d < best[1]):
                best = (i, d)
        return None if best is None else best[0]

    def pick_cluster(self, index: int) -> None:
        clusters = self.markers.at(self.zoom)
        count = int(clusters.count[index])
        self.area_picked.emit(clusters.cell_area(index), f"{count:,} photo{'s' if count != 1 else ''} on the map")

    def pick_rectangle(self, rect: QRectF) -> None:
        x0, y0 = self.to_world_point(rect.topLeft())
        x1, y1 = self.to_world_point(rect.bottomRight())
        north, west = to_lat_lon(x0 % 1.0, max(0.0, y0))
        south, east = to_lat_lon(x1 % 1.0, min(1.0, y1))
        if x1 - x0 >= 1:  # all the way around
            west, east = -180.0, 180.0
        area = (float(south), float(west), float(north), float(east))
        count = len(self.markers.in_area(*area))
        self.area_picked.emit(area, f"{count:,} photo{'s' if count != 1 else ''} in the map area")

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if not self.interactive and event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
        if not self.interactive or event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        self._press, self._press_center = event.position(), self.center
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self._rubber = QRectF(self._press, self._press)
        else:
            self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is None:
            return super().mouseMoveEvent(event)
        if self._rubber is not None:
            self._rubber = QRectF(self._press, event.position()).normalized()
            self.update()
            return
        delta = event.position() - self._press
        self.center = self._press_center
        self.pan_by(delta.x(), delta.y())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._press is None:
            return super().mouseReleaseEvent(event)
        moved = (event.position() - self._press).manhattanLength() > DRAG_SLOP
        rubber, self._rubber, self._press = self._rubber, None, None
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        if rubber is not None:
            if moved:
                self.pick_rectangle(rubber)
            self.update()
        elif not moved:
            index = self.cluster_at(event.position())
            if index is not None:
                self.pick_cluster(index)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.interactive:
            self.zoom_at(event.position(), 1.0)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if not self.interactive:
            return super().wheelEvent(event)
        notches = event.angleDelta().y() / 120
        if notches:
            self.zoom_at(event.position(), notches * WHEEL_STEP)


def _count_text(n: int) -> str:
    return f"{n / 1000:.0f}k" if n >= 10_000 else f"{n / 1000:.1f}k" if n >= 1000 else str(n)
