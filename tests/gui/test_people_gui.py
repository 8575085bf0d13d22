"""People in the desktop app, driven as a person would: name groups from the keyboard in the People
window, answer "Is this Jesper?" with Y and N, merge with M, name a face by clicking it in the
viewer, filter the grid by person from the sidebar and the filter bar (all or any)."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QPoint, Qt
from PySide6.QtWidgets import QApplication

from app.core.catalog import people as catalog
from app.core.catalog import queries
from app.core.catalog.models import CONFIRMED, SUGGESTED, Face, FaceRejection, Person, Photo
from app.gui import people_view
from app.gui.people_view import ItemRole, PeopleWindow
from app.gui.viewer import Viewer
from tests.gui.conftest import run_import

DECISION_MS = 60_000
KPA = ("bar55.jpg", "bar55_2.jpg", "cold_water.jpg", "pool_2.jpg", "anne_helene.jpg", "grand_canyon_1.jpg")


def _photos(tmp_path: Path, corpus: Path, names: tuple[str, ...] = KPA) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir(exist_ok=True)
    for name in names:
        shutil.copy2(corpus / "people" / "kphotoalbum" / name, folder / name)
    return folder


def _people(qtbot, window) -> PeopleWindow:
    win = window.show_people()
    qtbot.addWidget(win)
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win, timeout=3000)
    return win


def _decide(qtbot, win: PeopleWindow, act) -> None:  # type: ignore[no-untyped-def]
    """Do what starts a decision, and wait until it is stored (on the decisions' thread) and shown."""
    with qtbot.waitSignal(win.decided, timeout=DECISION_MS):
        act()


def _select_persons(win: PeopleWindow, ids: list[int]) -> None:
    selection = win.persons.selectionModel()
    selection.clearSelection()
    for pid in ids:
        selection.select(win.person_model.index(win.person_model.row_of(pid)), QItemSelectionModel.SelectionFlag.Select)


def _faces_of(person_id: int, state: str = CONFIRMED) -> set[int]:
    return {f.id for f in Face.select().where((Face.person == person_id) & (Face.person_state == state))}


def test_name_groups_from_the_keyboard_then_filter_by_person(qtbot, window, corpus: Path, tmp_path: Path) -> None:
    run_import(qtbot, window, _photos(tmp_path, corpus))
    win = _people(qtbot, window)
    groups = [s for s in catalog.person_summaries() if s.name is None]
    assert len(groups) >= 2 and win.current is not None and win.current.id == groups[0].id
    first, second = win.face_model.faces, None
    assert {f.id for f in first} == {f.id for f in catalog.faces_of_person(groups[0].id)}
    # type a name, Enter: the group is that person now, and the next group comes up
    qtbot.keyClicks(win.name_edit, "Jesper")
    _decide(qtbot, win, lambda: qtbot.keyClick(win.name_edit, Qt.Key.Key_Return))
    jesper = Person.get(Person.name == "Jesper")
    assert _faces_of(jesper.id) == {f.id for f in first}
    assert win.current is not None and win.current.name is None and win.current.id == groups[1].id
    second = win.face_model.faces
    qtbot.keyClicks(win.name_edit, "Anne Helene")
    _decide(qtbot, win, lambda: qtbot.keyClick(win.name_edit, Qt.Key.Key_Return))
    anne = Person.get(Person.name == "Anne Helene")
    assert _faces_of(anne.id) == {f.id for f in second}
    # the sidebar lists them with their photos; a click filters the grid by that person
    item = window.sidebar.find("person", jesper.id)
    assert item is not None
    his = {pid for (pid,) in Face.select(Face.photo).where(Face.id.in_(list(_faces_of(jesper.id)))).tuples()}
    assert int(item.text(1)) == len(his)
    window.sidebar._clicked(item)
    qtbot.waitUntil(lambda: set(window.model.ids()) == his, timeout=5000)
    # a second person in the filter bar: photos with both, or with either
    window.filter_bar.person_input.setText("anne helene")
    qtbot.keyClick(window.filter_bar.person_input, Qt.Key.Key_Return)
    hers = {pid for (pid,) in Face.select(Face.photo).where(Face.id.in_(list(_faces_of(anne.id)))).tuples()}
    qtbot.waitUntil(lambda: set(window.model.ids()) == his & hers, timeout=5000)
    window.filter_bar.person_mode.setCurrentIndex(1)
    qtbot.waitUntil(lambda: set(window.model.ids()) == his | hers, timeout=5000)
    assert window.model.ids() == queries.search_ids(window.filter_bar.current())
    # the inspector says who is in the selected photo
    photo = sorted(his & hers)[0]
    window.grid.selectionModel().setCurrentIndex(window.model.index(window.model.row_of(photo)),
                                                 QItemSelectionModel.SelectionFlag.ClearAndSelect)  # fmt: skip
    texts = [window.inspector.faces.item(i).text() for i in range(window.inspector.faces.count())]
    assert any(t.startswith("Jesper") for t in texts) and any(t.startswith("Anne Helene") for t in texts)


def test_a_decision_is_stored_off_the_gui_thread(qtbot, window, corpus: Path, tmp_path: Path) -> None:
    run_import(qtbot, window, _photos(tmp_path, corpus))
    win = _people(qtbot, window)
    groups = [s for s in catalog.person_summaries() if s.name is None]
    first = {f.id for f in win.face_model.faces}
    # the catalog's writer is held: the decision waits for it, the window must not
    release = threading.Event()
    held = window.lib.writer.submit(lambda: release.wait(60))
    qtbot.keyClicks(win.name_edit, "Jesper")
    qtbot.keyClick(win.name_edit, Qt.Key.Key_Return)
    assert win.runner.is_running() and win.hints.text() == "Saving…" and win.name_edit.isReadOnly()
    assert Person.get_or_none(Person.name == "Jesper") is None
    # meanwhile the window is live: another group can be looked at
    win.persons.setCurrentIndex(win.person_model.index(win.person_model.row_of(groups[1].id)))
    assert {f.id for f in win.face_model.faces} == {f.id for f in catalog.faces_of_person(groups[1].id)}
    # and a second decision waits its turn: refused with a word, nothing else happens
    _select_persons(win, [groups[1].id, groups[2].id])
    win.merge_selected()
    assert "Still saving" in win.hints.text()
    with qtbot.waitSignal(win.decided, timeout=DECISION_MS):
        release.set()
    assert held.result(5) is True
    jesper = Person.get(Person.name == "Jesper")
    assert _faces_of(jesper.id) == first
    assert win.hints.text() == "Named Jesper." and not win.name_edit.isReadOnly()
    assert all(Person.get_or_none(Person.id == g.id) is not None for g in groups[1:3])  # not merged
    assert window.sidebar.find("person", jesper.id) is not None  # the main window followed


def test_answer_suggestions_with_y_and_n(qtbot, window, corpus: Path, tmp_path: Path) -> None:
    folder = _photos(tmp_path, corpus, KPA[:4])
    run_import(qtbot, window, folder)
    win = _people(qtbot, window)
    qtbot.keyClicks(win.name_edit, "Jesper")
    _decide(qtbot, win, lambda: qtbot.keyClick(win.name_edit, Qt.Key.Key_Return))
    jesper = Person.get(Person.name == "Jesper")
    named = _faces_of(jesper.id)
    # a new photo of him: the import asks, it does not decide
    _photos(tmp_path, corpus, ("jesper_2.jpg",))
    run_import(qtbot, window, folder)
    asked = _faces_of(jesper.id, SUGGESTED)
    assert asked and _faces_of(jesper.id) == named
    row = win.person_model.row_of(jesper.id)
    win.persons.setCurrentIndex(win.person_model.index(row))
    assert win.question.isVisible() and "Is this Jesper?" in win.question.text()
    assert win.suggested_ids(only_selected=False) == [f.id for f in win.face_model.faces if f.id in asked]
    # N on one selected face: not him, remembered; Y with nothing selected: all the others are him
    no = win.face_model.faces[0].id
    win.faces.selectionModel().select(win.face_model.index(0), QItemSelectionModel.SelectionFlag.ClearAndSelect)
    win.faces.setFocus()
    _decide(qtbot, win, lambda: qtbot.keyClick(win.faces, Qt.Key.Key_N))
    assert FaceRejection.select().where((FaceRejection.face == no) & (FaceRejection.person == jesper.id)).exists()
    assert no not in _faces_of(jesper.id, SUGGESTED) | _faces_of(jesper.id)
    rest = asked - {no}
    if rest:
        win.persons.setCurrentIndex(win.person_model.index(win.person_model.row_of(jesper.id)))
        win.faces.setFocus()
        _decide(qtbot, win, lambda: qtbot.keyClick(win.faces, Qt.Key.Key_Y))
    assert _faces_of(jesper.id) == named | rest and not _faces_of(jesper.id, SUGGESTED)
    assert not win.question.isVisible() or win.current.id != jesper.id


def test_merge_selected_groups_with_m(qtbot, window, corpus: Path, tmp_path: Path, monkeypatch) -> None:
    run_import(qtbot, window, _photos(tmp_path, corpus))
    win = _people(qtbot, window)
    a, b, c = (s for s in catalog.person_summaries()[:3])
    selection = win.persons.selectionModel()
    for s in (a, b):
        selection.select(
            win.person_model.index(win.person_model.row_of(s.id)), QItemSelectionModel.SelectionFlag.Select
        )
    win.persons.setFocus()
    _decide(qtbot, win, lambda: qtbot.keyClick(win.persons, Qt.Key.Key_M))
    merged = {f.id for f in Face.select().where(Face.person == a.id)}
    assert len(merged) == a.faces + b.faces and Person.get_or_none(Person.id == b.id) is None
    # two named persons only merge after a yes
    named = []
    for s, name in ((a, "Jesper"), (c, "Jesper P.")):
        win.persons.setCurrentIndex(win.person_model.index(win.person_model.row_of(s.id)))
        qtbot.keyClicks(win.name_edit, name)
        _decide(qtbot, win, lambda: qtbot.keyClick(win.name_edit, Qt.Key.Key_Return))
        named.append(Person.get(Person.name == name).id)
    asked: list[list[str]] = []
    monkeypatch.setattr(people_view, "confirm_merge", lambda _parent, names: asked.append(names) or False)
    _select_persons(win, named)
    win.merge_selected()
    assert asked and set(asked[0]) == {"Jesper", "Jesper P."}
    assert all(Person.get_or_none(Person.id == pid) is not None for pid in named)


def test_click_a_face_in_the_viewer_to_name_it(qtbot, window, corpus: Path, tmp_path: Path) -> None:
    run_import(qtbot, window, _photos(tmp_path, corpus, ("anne_helene.jpg",)))
    photo = Photo.get(Photo.filename == "anne_helene.jpg")
    face = Face.get(Face.photo == photo.id)
    window.grid.selectionModel().setCurrentIndex(window.model.index(window.model.row_of(photo.id)),
                                                 QItemSelectionModel.SelectionFlag.ClearAndSelect)  # fmt: skip
    viewer: Viewer = window.open_viewer()
    qtbot.addWidget(viewer)
    qtbot.waitExposed(viewer)
    box = viewer.view.face_items[0]
    centre = viewer.view.mapFromScene(box.sceneBoundingRect().center())
    qtbot.mouseClick(viewer.view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(centre.x(), centre.y()))
    dialog = viewer.name_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.setTextValue("Anne Helene")
    with qtbot.waitSignal(window.naming.finished, timeout=DECISION_MS):  # stored in the background
        dialog.accept()
    named = Face.get_by_id(face.id)
    assert named.person.name == "Anne Helene" and named.person_state == CONFIRMED
    labels = [child.text() for item in viewer.view.face_items for child in item.childItems() if hasattr(child, "text")]
    assert "Anne Helene" in labels
    assert window.sidebar.find("person", named.person_id).text(0) == "Anne Helene"
    viewer.close()


def test_people_window_lists_every_face_once(qtbot, window, corpus: Path, tmp_path: Path) -> None:
    run_import(qtbot, window, _photos(tmp_path, corpus))
    win = _people(qtbot, window)
    listed = set()
    for row in range(win.person_model.rowCount()):
        summary = win.person_model.index(row).data(ItemRole)
        win.persons.setCurrentIndex(win.person_model.index(row))
        faces = {f.id for f in win.face_model.faces}
        assert len(faces) == summary.faces and not faces & listed
        listed |= faces
    in_groups = {f.id for f in Face.select().where(Face.person.is_null(False))}
    assert listed == in_groups


def test_faces_in_no_group_are_named_a_selection_at_a_time(qtbot, window, corpus: Path, tmp_path: Path) -> None:
    run_import(qtbot, window, _photos(tmp_path, corpus))
    win = _people(qtbot, window)
    # Del on a face of a group: out of it, and never grouped into it again: here, in no group at all
    group = win.current
    out = win.face_model.faces[-1].id
    win.faces.selectionModel().select(win.face_model.index(len(win.face_model.faces) - 1),
                                      QItemSelectionModel.SelectionFlag.ClearAndSelect)  # fmt: skip
    win.faces.setFocus()
    _decide(qtbot, win, lambda: qtbot.keyClick(win.faces, Qt.Key.Key_Delete))
    assert out not in {f.id for f in Face.select().where(Face.person == group.id)}
    alone = {f.id for f in Face.select().where(Face.person.is_null())}
    assert out in alone
    win.persons.setCurrentIndex(win.person_model.index(win.person_model.rowCount() - 1))
    assert win.current.id == catalog.LOOSE and {f.id for f in win.face_model.faces} == alone
    # a letter typed on the faces starts the name; without a selection nothing is named
    win.faces.setFocus()
    qtbot.keyClicks(win.faces, "Stranger")
    assert win.name_edit.text() == "Stranger" and win.name_edit.hasFocus()
    qtbot.keyClick(win.name_edit, Qt.Key.Key_Return)
    assert Person.get_or_none(Person.name == "Stranger") is None and "Select the faces" in win.hints.text()
    first = win.face_model.faces[0].id
    win.faces.selectionModel().select(win.face_model.index(0), QItemSelectionModel.SelectionFlag.ClearAndSelect)
    _decide(qtbot, win, lambda: qtbot.keyClick(win.name_edit, Qt.Key.Key_Return))
    named = Face.get_by_id(first)
    assert named.person.name == "Stranger" and named.person_state == CONFIRMED
    assert first not in {f.id for f in catalog.loose_faces()}
    assert win.hints.text() == "Named 1 face(s) Stranger."
