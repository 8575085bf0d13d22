"""The strip over the grid: how many photos were taken when, for the current filter whatever its
dates. A drag across it chooses a date range (the filter bar's from/to); a click clears it."""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QWidget

HEIGHT = 46
AXIS = 13  # pixels at the bottom for the year labels
DRAG_SLOP = 3
EARLIEST = dt.date(1971, 1, 1)  # before: a camera clock that was never set (1970-01-01), or a scan


class TimelineStrip(QWidget):
    range_picked = Signal(str, str)  # since, until as YYYY-MM-DD ("", "": no range)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedHeight(HEIGHT)
        self.setMouseTracking(True)
        self.first: dt.date | None = None
        self.last: dt.date | None = None
        self.counts = np.zeros(0)  # photos per day from `first`
        self.chosen: tuple[dt.date, dt.date] | None = None
        self._press: float | None = None
        self._drag: tuple[float, float] | None = None
        self.setToolTip("Photos over time: drag to show a date range, click to show all dates")

    def sizeHint(self) -> QSize:
        return QSize(600, HEIGHT)

    def set_counts(self, days: list[tuple[str, int]], since: str = "", until: str = "") -> None:
        """Photos per day (YYYY-MM-DD), and the filter's current range to shade."""
        parsed = []
        for day, n in days:
            with contextlib.suppress(ValueError):  # a camera's garbage date ("2019-00-00")
                parsed.append((dt.date.fromisoformat(day), n))
        # a camera clock left at 2099 or 1970 would squeeze every real photo into a few pixels
        parsed = [(d, n) for d, n in parsed if EARLIEST <= d <= dt.date.today()]
        if parsed:
            self.first, self.last = parsed[0][0], parsed[-1][0]
            self.counts = np.zeros((self.last - self.first).days + 1)
            for day, n in parsed:
                self.counts[(day - self.first).days] = n
        else:
            self.first = self.last = None
            self.counts = np.zeros(0)
        self.chosen = _range(since, until)
        self.update()

    def set_counts_range(self, since: str, until: str) -> None:
        """Only the shaded range changed (the counts ignore the dates)."""
        self.chosen = _range(since, until)
        self.update()

    # -- geometry ---------------------------------------------------------------------------------
    def _x_of(self, day: dt.date) -> float:
        assert self.first is not None
        return (day - self.first).days / max(1, len(self.counts)) * self.width()

    def day_at(self, x: float) -> dt.date | None:
        if self.first is None:
            return None
        fraction = min(max(x / max(1, self.width()), 0.0), 1.0)  # past either end: the first or last day
        return self.first + dt.timedelta(days=min(int(fraction * len(self.counts)), len(self.counts) - 1))

    # -- painting ---------------------------------------------------------------------------------
    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        pal = self.palette()
        painter.fillRect(self.rect(), pal.color(QPalette.ColorRole.Base))
        text = pal.color(QPalette.ColorRole.Text)
        if self.first is None:
            painter.setPen(text)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No dated photos")
            return
        width, bars_h = max(1, self.width()), self.height() - AXIS - 3
        # one bar per pixel column: the days that fall in it, summed
        columns = np.add.reduceat(self.counts, _column_starts(len(self.counts), width))
        top = columns.max() or 1
        bar = QColor(pal.color(QPalette.ColorRole.Highlight))
        muted = QColor(text)
        muted.setAlpha(110)
        for x in np.flatnonzero(columns):
            h = max(2.0, bars_h * math.sqrt(columns[x] / top))  # sqrt: a quiet month still shows
            day = self.day_at(x + 0.5)
            inside = self.chosen is None or (day is not None and self.chosen[0] <= day <= self.chosen[1])
            painter.fillRect(QRectF(x, 2 + bars_h - h, 2, h), bar if inside else muted)  # 2 px: a lone day shows
        self._draw_years(painter, text)
        shade = self._drag or self._chosen_span()
        if shade is not None:
            color = QColor(pal.color(QPalette.ColorRole.Highlight))
            color.setAlpha(50)
            painter.fillRect(QRectF(shade[0], 0, max(2.0, shade[1] - shade[0]), self.height()), color)
        painter.end()

    def _chosen_span(self) -> tuple[float, float] | None:
        if self.chosen is None or self.first is None:
            return None
        return self._x_of(self.chosen[0]), self._x_of(self.chosen[1] + dt.timedelta(days=1))

    def _draw_years(self, painter: QPainter, color: QColor) -> None:
        assert self.first is not None and self.last is not None
        font = QFont(self.font())
        font.setPixelSize(10)
        painter.setFont(font)
        painter.setPen(color)
        years = range(self.first.year, self.last.year + 2)
        step = max(1, math.ceil(len(years) * 40 / max(1, self.width())))  # labels 40 px apart at least
        baseline = self.height() - 2
        for year in years[::step]:
            x = self._x_of(dt.date(year, 1, 1)) if year > self.first.year else 0.0
            if x < self.width() - 20:
                painter.drawLine(QPointF(x, baseline - AXIS + 2), QPointF(x, baseline - AXIS + 6))
                painter.drawText(QPointF(x + 2, baseline), str(year))

    # -- choosing a range ---------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.first is not None:
            self._press = event.position().x()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is not None:
            a, b = sorted((self._press, event.position().x()))
            self._drag = (a, b)
            self.update()
        day = self.day_at(event.position().x())
        if day is not None and self.first is not None:
            n = int(self.counts[(day - self.first).days])
            self.setToolTip(f"{day.isoformat()}: {n} photo{'s' if n != 1 else ''}\n"
                            "Drag to show a date range, click to show all dates")  # fmt: skip

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._press is None:
            return
        start, end = sorted((self._press, event.position().x()))
        self._press, self._drag = None, None
        if end - start <= DRAG_SLOP:
            self.chosen = None
            self.range_picked.emit("", "")
        else:
            since, until = self.day_at(start), self.day_at(end)
            if since is not None and until is not None:
                self.chosen = (since, until)
                self.range_picked.emit(since.isoformat(), until.isoformat())
        self.update()


def _column_starts(days: int, width: int) -> np.ndarray:
    """The first day of each pixel column, for np.add.reduceat: a column sums its days; where days
    are wider than columns, a day's columns repeat its index and reduceat gives each its count, so
    the day's bar spans its pixels."""
    starts = np.floor(np.arange(width) * days / width).astype(int)
    return np.minimum(starts, days - 1)


def _range(since: str, until: str) -> tuple[dt.date, dt.date] | None:
    """The filter's YYYY[-MM[-DD]] bounds as days (None: no range)."""
    if not since and not until:
        return None
    try:
        low = _first_day(since) if since else dt.date.min
        high = _last_day(until) if until else dt.date.max
    except ValueError:
        return None
    return low, high


def _first_day(value: str) -> dt.date:
    parts = [int(p) for p in value.split("-")] + [1, 1]
    return dt.date(parts[0], parts[1], parts[2])


def _last_day(value: str) -> dt.date:
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 1:
        return dt.date(parts[0], 12, 31)
    if len(parts) == 2:
        return dt.date(parts[0], parts[1], calendar.monthrange(parts[0], parts[1])[1])
    return dt.date(*parts)
