"""The People window: named persons, then the unnamed groups the grouping found, on the left; the
chosen one's faces as tiles on the right. Built for naming a library from the keyboard:

- an unnamed group is shown with the name field focused: type a name, Enter, and the next group
  comes up (↑/↓ skip one); a name that exists joins that person;
- a person with suggestions asks "Is this Anne?": Y says yes, N says no (for the selected faces, or
  all of them when none is selected); a no is remembered for that face;
- Delete takes the selected faces out of the person or group ("not this person");
- select several persons or groups on the left and press M to merge them (two named persons only
  after a yes: only the user ever merges people).

The decisions are app.core.people.persons' (the CLI's `tessera people`), stored by the library's
single writer. They run on a background thread (a decision re-places faces over the whole library:
~0.35 s of CPU at 100k faces), which also reads the new list; meanwhile the window stays live (browse, look)
and says "Saving…"; the next decision waits for it. Tiles are cut from the thumbnails by a
background loader (face_tiles)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QCloseEvent,
    QColor,
    QFont,
    QIcon,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPalette,
    QPixmap,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCompleter,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from app.core.catalog import people as catalog
from app.core.catalog.models import SUGGESTED
from app.core.catalog.people import LOOSE, FaceInfo, PersonSummary
from app.core.people import persons
from app.core.xmp.export import ExportReport
from app.gui.bridge import JobRunner
from app.gui.face_tiles import TILE, FaceCrops

Index = QModelIndex | QPersistentModelIndex
ItemRole = Qt.ItemDataRole.UserRole + 1
SUGGESTION_COLOR = QColor("#e0a000")
ICON = 48
FACES_SHOWN = 5000  # a person's faces shown at once (suggestions first): more is no longer a view of them
HINTS = (
    "↑↓ person    type a name, ⏎ to name    Y / N  is it them?    Del  not this person    M  merge    ⏎ on a face: open"
)


@dataclass
class Listing:
    """What the left-hand list shows: persons, groups, then the faces in no group; and the names."""

    rows: list[PersonSummary]
    names: list[str]


def read_listing() -> Listing:
    """Any thread: the list as the catalog has it now."""
    rows = catalog.person_summaries()
    loose = catalog.loose_count()
    if loose:
        rows.append(PersonSummary(LOOSE, None, loose))
    return Listing(rows, catalog.person_names())


def confirm_merge(parent: QWidget, names: list[str]) -> bool:
    """Only the user merges named persons, and only after saying so here."""
    answer = QMessageBox.question(
        parent, "Merge people", f"Merge {', '.join(names[1:])} into {names[0]}?\nTheir faces become {names[0]}'s."
    )
    return answer == QMessageBox.StandardButton.Yes


class PersonListModel(QAbstractListModel):
    def __init__(self, crops: FaceCrops, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.crops = crops
        self.rows: list[PersonSummary] = []
        self._covers: dict[int, FaceInfo | None] = {}
        blank = QPixmap(ICON, ICON)
        blank.fill(QColor(128, 128, 128, 60))
        self._blank = QIcon(blank)  # until the cover is cut: rows keep their layout

    def reset(self, rows: list[PersonSummary]) -> None:
        self.beginResetModel()
        self.rows = rows
        self._covers.clear()
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.rows)

    def row_of(self, person_id: int) -> int | None:
        return next((i for i, r in enumerate(self.rows) if r.id == person_id), None)

    def _cover(self, summary: PersonSummary) -> FaceInfo | None:
        if summary.cover is None:
            return None
        if summary.cover not in self._covers:
            found = catalog.faces_by_ids([summary.cover])
            self._covers[summary.cover] = found[0] if found else None
        return self._covers[summary.cover]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        s = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            count = f"{s.photos:,} photo{'s' * (s.photos != 1)}" if s.name else f"{s.faces:,} faces"
            ask = f" · {s.suggested} to confirm" if s.suggested else ""
            return f"{s.label}\n{count}{ask}"
        if role == Qt.ItemDataRole.DecorationRole:
            face = self._cover(s)
            tile = self.crops.get(face) if face is not None else None
            return QIcon(tile) if tile is not None else self._blank
        if role == Qt.ItemDataRole.FontRole and s.name is None:
            font = QFont()
            font.setItalic(True)
            return font
        if role == ItemRole:
            return s
        return None

    def cover_ready(self, face_id: int) -> None:
        for i, s in enumerate(self.rows):
            if s.cover == face_id:
                self.dataChanged.emit(self.index(i), self.index(i), [Qt.ItemDataRole.DecorationRole])


class FaceGridModel(QAbstractListModel):
    def __init__(self, crops: FaceCrops, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.crops = crops
        self.faces: list[FaceInfo] = []
        self._row_of: dict[int, int] = {}

    def reset(self, faces: list[FaceInfo]) -> None:
        self.beginResetModel()
        self.faces = faces
        self._row_of = {f.id: i for i, f in enumerate(faces)}
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.faces)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        face = self.faces[index.row()]
        if role == ItemRole:
            return face
        if role == Qt.ItemDataRole.ToolTipRole:
            state = "suggestion: is it them?" if face.state == SUGGESTED else face.state
            return f"{face.path}\n{state}" + (f" (distance {face.distance:.2f})" if face.distance is not None else "")
        return None

    def tile_ready(self, face_id: int) -> None:
        row = self._row_of.get(face_id)
        if row is not None:
            self.dataChanged.emit(self.index(row), self.index(row))


class FaceDelegate(QStyledItemDelegate):
    """A face tile; suggestions wear a "?" and an amber frame, selected tiles the highlight."""

    def __init__(self, crops: FaceCrops, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.crops = crops

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return QSize(TILE + 8, TILE + 8)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        face: FaceInfo = index.data(ItemRole)
        rect = option.rect.adjusted(4, 4, -4, -4)
        painter.save()
        painter.fillRect(rect, option.palette.color(QPalette.ColorRole.AlternateBase))
        tile = self.crops.get(face)
        if tile is not None:
            target = QRect(0, 0, tile.width(), tile.height())
            target.moveCenter(rect.center())
            painter.drawPixmap(target, tile)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if face.state == SUGGESTED or selected:
            color = option.palette.color(QPalette.ColorRole.Highlight) if selected else SUGGESTION_COLOR
            painter.setPen(color)
            for inset in range(3 if selected else 2):
                painter.drawRect(rect.adjusted(inset, inset, -inset - 1, -inset - 1))
        if face.state == SUGGESTED:
            badge = QRect(rect.right() - 22, rect.top() + 4, 18, 18)
            painter.setBrush(SUGGESTION_COLOR)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawEllipse(badge)
            painter.setPen(QColor("black"))
            font = painter.font()
            font.setBold(True)
            painter.setFont(font)
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, "?")
        painter.restore()


class PeopleWindow(QWidget):
    library_changed = Signal()  # names, merges, answers: the main window's sidebar and filters follow
    open_photo = Signal(int)  # photo id
    decided = Signal()  # a decision is stored and shown (or failed: the hints say why)

    def __init__(self, lib: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle("People — Tessera")
        self.lib = lib
        self.crops = FaceCrops(lib.thumbs_dir, parent=self)
        self.person_model = PersonListModel(self.crops, self)
        self.face_model = FaceGridModel(self.crops, self)
        self.current: PersonSummary | None = None
        self.runner = JobRunner(self)  # the decisions' thread: one at a time
        self._then: Callable[[Any, Listing], None] = lambda _value, _listing: None

        self.persons = QListView()
        self.persons.setModel(self.person_model)
        self.persons.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.persons.setIconSize(QSize(ICON, ICON))
        self.persons.setUniformItemSizes(True)
        self.persons.setSpacing(2)
        self.persons.setMinimumWidth(240)
        self.persons.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.persons.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.title = QLabel()
        title_font = self.title.font()
        title_font.setPointSizeF(title_font.pointSizeF() * 1.5)
        title_font.setBold(True)
        self.title.setFont(title_font)
        self.subtitle = QLabel()
        self.name_edit = QLineEdit(placeholderText="Who is this? Type a name and press Enter")
        self.name_edit.setClearButtonEnabled(True)
        self.completer = QCompleter([], self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.name_edit.setCompleter(self.completer)
        self.question = QLabel(objectName="peopleQuestion")
        self.question.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.question.setStyleSheet(
            "#peopleQuestion { background: #e0a000; color: black; border-radius: 4px; padding: 6px;"
            " font-weight: bold; }"
        )
        self.yes_button = QPushButton("Yes (Y)")
        self.no_button = QPushButton("No (N)")
        self.remove_button = QPushButton("Not this person (Del)")
        self.merge_button = QPushButton("Merge selected (M)")
        self.faces = QListView()
        self.faces.setModel(self.face_model)
        self.faces.setViewMode(QListView.ViewMode.IconMode)
        self.faces.setResizeMode(QListView.ResizeMode.Adjust)
        self.faces.setMovement(QListView.Movement.Static)
        self.faces.setUniformItemSizes(True)
        self.faces.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.faces.setItemDelegate(FaceDelegate(self.crops, self.faces))
        self.hints = QLabel(HINTS)
        self.hints.setEnabled(False)  # quieter text
        self._layout()
        self._connect()
        self.resize(1100, 760)
        self.reload()

    def _layout(self) -> None:
        right = QWidget()
        column = QVBoxLayout(right)
        column.addWidget(self.title)
        column.addWidget(self.subtitle)
        column.addWidget(self.name_edit)
        answer = QHBoxLayout()
        answer.addWidget(self.question, 1)
        answer.addWidget(self.yes_button)
        answer.addWidget(self.no_button)
        column.addLayout(answer)
        column.addWidget(self.faces, 1)
        actions = QHBoxLayout()
        actions.addWidget(self.remove_button)
        actions.addWidget(self.merge_button)
        actions.addStretch(1)
        column.addLayout(actions)
        splitter = QSplitter()
        splitter.addWidget(self.persons)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.hints)

    def _connect(self) -> None:
        self.runner.finished.connect(self._stored)
        self.runner.failed.connect(self._not_stored)
        self.crops.ready.connect(self.face_model.tile_ready)
        self.crops.ready.connect(self.person_model.cover_ready)
        self.persons.selectionModel().currentChanged.connect(lambda cur, _prev: self._show(cur))
        self.name_edit.returnPressed.connect(self.name_current)
        self.name_edit.installEventFilter(self)
        self.faces.activated.connect(lambda index: self.open_photo.emit(index.data(ItemRole).photo_id))
        self.yes_button.clicked.connect(self.answer_yes)
        self.no_button.clicked.connect(self.answer_no)
        self.remove_button.clicked.connect(self.remove_faces)
        self.merge_button.clicked.connect(self.merge_selected)
        # Y and N answer only while a question is asked: otherwise they are letters of a name. Delete
        # acts on the faces, M on the list: typing "Maria" must never merge anything.
        self.yes_key = QShortcut(QKeySequence("Y"), self, self.answer_yes)
        self.no_key = QShortcut(QKeySequence("N"), self, self.answer_no)
        only_there = Qt.ShortcutContext.WidgetShortcut
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.faces, self.remove_faces, context=only_there)
        QShortcut(QKeySequence("M"), self.persons, self.merge_selected, context=only_there)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.close)
        self.faces.installEventFilter(self)

    # -- contents ---------------------------------------------------------------------------------
    def reload(self, select: int | None = None, row: int | None = None, listing: Listing | None = None) -> None:
        """Show persons and groups again (`listing`, else read now); select `select` (an id), else
        the row at `row`, else keep."""
        keep = select if select is not None else (self.current.id if self.current and row is None else None)
        listing = listing or read_listing()
        self.person_model.reset(listing.rows)
        self.completer.setModel(None)
        self.completer = QCompleter(listing.names, self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.name_edit.setCompleter(self.completer)
        target = self.person_model.row_of(keep) if keep is not None else None
        if target is None and self.person_model.rows:
            target = min(row if row is not None else 0, len(self.person_model.rows) - 1)
        index = self.person_model.index(target) if target is not None else QModelIndex()
        selection = self.persons.selectionModel()
        selection.blockSignals(True)  # shown once, below
        selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        selection.blockSignals(False)
        self.persons.viewport().update()
        self._show(index)

    def _show(self, index: Index) -> None:
        summary: PersonSummary | None = index.data(ItemRole) if index.isValid() else None
        self.current = summary
        self.face_model.reset(self._faces(summary))
        if summary is None:
            self.title.setText("No people yet")
            self.subtitle.setText("Faces are grouped when photos are analyzed (File > Analyze Library).")
        elif summary.id == LOOSE:
            self.title.setText(summary.label)
            shown = f" (the {FACES_SHOWN:,} newest)" if summary.faces > FACES_SHOWN else ""
            self.subtitle.setText(f"{summary.faces:,} faces that look like no other{shown}: select some, type a name")
        else:
            self.title.setText(summary.label)
            what = f"{summary.faces:,} faces" + (f" in {summary.photos:,} photos" if summary.name else "")
            what += f" (showing {FACES_SHOWN:,})" if summary.faces + summary.suggested > FACES_SHOWN else ""
            self.subtitle.setText(what + ("" if summary.name else " that look alike: who is it?"))
        self.name_edit.setText("")
        self.name_edit.setPlaceholderText(
            "Who is this? Type a name and press Enter" if summary is None or summary.name is None
            else "Rename: type a new name and press Enter"
        )  # fmt: skip
        asking = bool(summary and summary.suggested)
        self.yes_key.setEnabled(asking)
        self.no_key.setEnabled(asking)
        self.question.setVisible(asking)
        self.yes_button.setVisible(asking)
        self.no_button.setVisible(asking)
        if asking and summary is not None:
            self.question.setText(f"Is this {summary.name}?  {summary.suggested} face(s) to confirm: Y yes · N no"
                                  " (for the selected faces, or all of them)")  # fmt: skip
            self.faces.setFocus()
        elif summary is not None and summary.id == LOOSE:
            self.faces.setFocus()  # faces first, then their name
        elif summary is not None and summary.name is None:
            self.name_edit.setFocus()

    @staticmethod
    def _faces(summary: PersonSummary | None) -> list[FaceInfo]:
        if summary is None:
            return []
        if summary.id == LOOSE:
            return catalog.loose_faces(FACES_SHOWN)
        return catalog.faces_of_person(summary.id, FACES_SHOWN)

    def suggested_ids(self, only_selected: bool = True) -> list[int]:
        faces = self._selected_faces() if only_selected else []
        return [f.id for f in (faces or self.face_model.faces) if f.state == SUGGESTED]

    def _selected_faces(self) -> list[FaceInfo]:
        return [i.data(ItemRole) for i in self.faces.selectionModel().selectedIndexes()]

    # -- decisions --------------------------------------------------------------------------------
    def _decide(self, work: Callable[[ExportReport], Any], then: Callable[[Any, Listing], None]) -> None:
        """Run `work` (a decision; the sidecars it auto-writes reported into its argument) on the
        decisions' thread, with the list read after it; `then(its value, the list)` on this thread."""
        if self.runner.is_running():
            self.hints.setText("Still saving the last decision: a moment…")
            return

        def job(_progress: Any, _cancelled: Any) -> tuple[Any, Listing, ExportReport]:
            report = ExportReport()
            value = work(report)
            return value, read_listing(), report

        self._then = then
        self._set_busy(True)
        self.runner.start(job)

    def _set_busy(self, busy: bool) -> None:
        self.name_edit.setReadOnly(busy)
        for button in (self.yes_button, self.no_button, self.remove_button, self.merge_button):
            button.setEnabled(not busy)
        if busy:
            self.hints.setText("Saving…")

    def _stored(self, result: tuple[Any, Listing, ExportReport]) -> None:
        value, listing, report = result
        self._set_busy(False)
        self._then(value, listing)
        if report.failed:
            path, reason = report.failed[0]
            self.hints.setText(f"{self.hints.text()}  Sidecar not updated for {path}: {reason}")
        self.decided.emit()

    def _not_stored(self, message: str) -> None:
        self._set_busy(False)
        self.hints.setText(message)
        self.decided.emit()

    def _decided(self, listing: Listing, select: int | None = None, row: int | None = None, message: str = "") -> None:
        self.reload(select=select, row=row, listing=listing)
        if message:
            self.hints.setText(message)
        self.library_changed.emit()

    def _row(self) -> int:
        return self.persons.currentIndex().row() if self.persons.currentIndex().isValid() else 0

    def name_current(self) -> None:
        text = self.name_edit.text().strip()
        if not text or self.current is None or self.name_edit.isReadOnly():
            return
        if self.current.id == LOOSE:
            self._name_loose(text)
            return
        was_group, row, person = self.current.name is None, self._row(), self.current.id

        def then(pid: int, listing: Listing) -> None:
            if was_group:  # on to the next group: named persons sort first, so the next is at this row + 1
                self._decided(listing, row=_next_group_row(listing.rows, row, pid), message=f"Named {text}.")
            else:
                self._decided(listing, select=pid, message=f"Renamed to {text}.")

        self._decide(lambda report: persons.name(self.lib, person, text, sidecars=report), then)

    def _name_loose(self, text: str) -> None:
        """Faces in no group are named one selection at a time."""
        faces = [f.id for f in self._selected_faces()]
        if not faces:
            self.hints.setText("Select the faces of that person first (Ctrl+click), then type the name.")
            return

        def then(_pid: int, listing: Listing) -> None:
            self._decided(listing, select=LOOSE, message=f"Named {len(faces)} face(s) {text}.")
            self.name_edit.setFocus()

        self._decide(lambda report: persons.name_faces(self.lib, faces, text, sidecars=report), then)

    def answer_yes(self) -> None:
        self._answer(persons.confirm, "{n} face(s) confirmed as {name}.")

    def answer_no(self) -> None:
        self._answer(persons.reject, "{n} face(s) are not {name}: they will not be suggested again.")

    def _answer(self, decide: Any, message: str) -> None:
        """Y or N for the selected suggestions (all of them when none is selected). Then stay while
        questions remain, else go on to the next person with some (or the next group)."""
        ids = self.suggested_ids()
        if self.current is None or not ids:
            return
        current, name = self.current.id, self.current.name

        def then(n: int, listing: Listing) -> None:
            said = message.format(n=n, name=name)
            here = next((s for s in listing.rows if s.id == current), None)
            if here is not None and here.suggested:
                self._decided(listing, select=current, message=said)
                return
            asking = next((s.id for s in listing.rows if s.suggested), None)
            group = next((s.id for s in listing.rows if s.name is None and s.id != LOOSE), None)
            self._decided(listing, select=asking or group or current, message=said)

        self._decide(lambda report: decide(self.lib, current, ids, sidecars=report), then)

    def remove_faces(self) -> None:
        faces = [f.id for f in self._selected_faces()]
        if self.current is None or self.current.id == LOOSE or not faces:
            return
        current, label, row = self.current.id, self.current.label, self._row()
        self._decide(
            lambda report: persons.reject(self.lib, current, faces, sidecars=report),
            lambda n, listing: self._decided(
                listing, select=current, row=row, message=f"{n} face(s) taken out of {label}."
            ),
        )

    def merge_selected(self) -> None:
        picked = [i.data(ItemRole) for i in self.persons.selectionModel().selectedIndexes()]
        chosen: list[PersonSummary] = [s for s in picked if s.id != LOOSE]
        if len(chosen) < 2:
            self.hints.setText("Select two or more people or groups on the left (Ctrl+click), then M.")
            return
        chosen.sort(key=lambda s: (s.name is None, -s.faces))  # the named one, then the largest, keeps its id
        named = [s.name for s in chosen if s.name]
        if len(named) > 1 and not confirm_merge(self, [s.label for s in chosen]):
            return
        ids, label = [s.id for s in chosen], chosen[0].label
        self._decide(
            lambda report: persons.merge(self.lib, ids, sidecars=report),
            lambda pid, listing: self._decided(listing, select=pid, message=f"Merged {len(ids)} into {label}."),
        )

    # -- keys -------------------------------------------------------------------------------------
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        """↑/↓ in the name field move through the list: a group can be skipped without the mouse.
        Typing on the faces starts their name (for a group, or the faces in no group)."""
        if not isinstance(event, QKeyEvent) or event.type() != QEvent.Type.KeyPress:
            return super().eventFilter(obj, event)
        typing = (
            event.text().isprintable()
            and event.text().strip()
            and not (event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier))
        )
        if obj is self.faces and typing and self.current is not None and self.current.name is None:
            self.name_edit.setFocus()
            self.name_edit.insert(event.text())
            return True
        if obj is self.name_edit:
            key = event.key()
            if key in (Qt.Key.Key_Up, Qt.Key.Key_Down) and not self.completer.popup().isVisible():
                step = -1 if key == Qt.Key.Key_Up else 1
                row = max(0, min(self._row() + step, self.person_model.rowCount() - 1))
                self.persons.setCurrentIndex(self.person_model.index(row))
                return True
        return super().eventFilter(obj, event)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.runner.is_running():  # the decision being stored finishes; the main window follows
            self.runner.wait()
            self.library_changed.emit()
        self.crops.close()
        super().closeEvent(event)


def _next_group_row(rows: list[PersonSummary], row: int, named: int) -> int:
    """The row of the group after `row` (the one just named has left it), else the first group, else
    the person just named."""
    groups = [i for i, s in enumerate(rows) if s.name is None and s.id != LOOSE]
    after = [i for i in groups if i >= row]
    if after:
        return after[0]
    return groups[0] if groups else next((i for i, s in enumerate(rows) if s.id == named), 0)
