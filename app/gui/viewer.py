"""The viewer: the full photo, EXIF-oriented, with zoom (fit, 100%, wheel), pan, next/previous,
fullscreen and an overlay of detected faces with who they are (a click on a face names it). The
1024 px thumbnail shows at once; the full image replaces it when a background thread has decoded it."""

from __future__ import annotations

import threading
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QObject, QPoint, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QImage, QKeySequence, QMouseEvent, QPainter, QPen, QPixmap, QWheelEvent
from PySide6.QtWidgets import (
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QInputDialog,
    QLabel,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app.core.analysis.decode import DecodeError, decode_image
from app.core.analysis.thumbnails import thumb_path
from app.core.catalog.models import CONFIRMED, SUGGESTED, Photo
from app.core.catalog.people import PhotoFace, person_names, photo_faces
from app.core.catalog.roots import local_path
from app.core.ingest.filetypes import sniff_format
from app.gui.rating_stars import RATING_KEYS, rating_text

VIEW_LONG_SIDE = 8192  # beyond this "100%" shows the photo downsampled; memory stays bounded
FACE_PEN = QColor(255, 210, 0)
LABEL_BACKDROP = QColor(0, 0, 0, 170)
ZOOM_STEP = 1.25
CLICK_SLOP = 4  # pixels a press may move and still be a click (not a drag of the photo)
FaceRole = 0  # QGraphicsItem data key: the face id of a box


def face_label(face: PhotoFace) -> str:
    """What a face box says: the name, "Anne?" for a suggestion, else the detector's score."""
    if face.person and face.state == CONFIRMED:
        return face.person
    if face.person and face.state == SUGGESTED:
        return f"{face.person}?"
    return f"{face.score:.0%}"


def to_qimage(image: Image.Image) -> QImage:
    rgb = image.convert("RGB")
    data = rgb.tobytes()
    return QImage(data, rgb.width, rgb.height, 3 * rgb.width, QImage.Format.Format_RGB888).copy()


class PhotoView(QGraphicsView):
    zoom_changed = Signal(float)
    face_clicked = Signal(int)  # face id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setRenderHints(QPainter.RenderHint.SmoothPixmapTransform | QPainter.RenderHint.Antialiasing)
        self.setBackgroundBrush(QColor(24, 24, 24))
        self.pixmap_item = QGraphicsPixmapItem()
        self.pixmap_item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self.pixmap_item)
        self.face_items: list[QGraphicsRectItem] = []
        self.fit_mode = True
        self._pressed_at: QPoint | None = None

    def set_pixmap(self, pixmap: QPixmap, full_width: int) -> None:
        self.pixmap_item.setPixmap(pixmap)
        # the item is scaled so that scene units are the photo's own pixels: face boxes (stored in
        # full-size oriented pixels) then sit at the right place whatever image is loaded
        self.pixmap_item.setScale(full_width / max(1, pixmap.width()))
        self.scene().setSceneRect(self.pixmap_item.sceneBoundingRect())
        if self.fit_mode:
            self.fit()

    def set_faces(self, faces: list[PhotoFace], visible: bool) -> None:
        for item in self.face_items:
            self.scene().removeItem(item)
        self.face_items = []
        pen = QPen(FACE_PEN, 2)
        pen.setCosmetic(True)  # same thickness at any zoom
        for face in faces:
            x, y, w, h = face.box
            rect = QGraphicsRectItem(QRectF(x, y, w, h))
            rect.setPen(pen)
            rect.setData(FaceRole, face.id)
            rect.setToolTip("Click to say who this is")
            label = QGraphicsSimpleTextItem(face_label(face), rect)
            label.setBrush(FACE_PEN)
            label.setPos(x, y + h)
            label.setFlag(QGraphicsSimpleTextItem.GraphicsItemFlag.ItemIgnoresTransformations)
            backdrop = QGraphicsRectItem(label.boundingRect().adjusted(-3, -1, 3, 1), label)  # legible on any photo
            backdrop.setBrush(LABEL_BACKDROP)
            backdrop.setPen(Qt.PenStyle.NoPen)
            backdrop.setFlag(QGraphicsRectItem.GraphicsItemFlag.ItemStacksBehindParent)
            rect.setVisible(visible)
            self.scene().addItem(rect)
            self.face_items.append(rect)

    def show_faces(self, visible: bool) -> None:
        for item in self.face_items:
            item.setVisible(visible)

    def zoom(self) -> float:
        """Screen pixels per photo pixel."""
        return self.transform().m11()

    def fit(self) -> None:
        self.fit_mode = True
        self.fitInView(self.scene().sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
        self.zoom_changed.emit(self.zoom())

    def set_zoom(self, factor: float) -> None:
        self.fit_mode = False
        factor = max(0.01, min(factor, 32.0))
        self.setTransform(self.transform().fromScale(factor, factor))
        self.zoom_changed.emit(self.zoom())

    def actual_size(self) -> None:
        self.set_zoom(1.0)  # one screen pixel per photo pixel

    def face_at(self, pos: QPoint) -> int | None:
        """The face box under a point of the view (the smallest, where boxes overlap)."""
        hits = [i for i in self.face_items if i.isVisible() and i.sceneBoundingRect().contains(self.mapToScene(pos))]
        if not hits:
            return None
        return min(hits, key=lambda i: i.rect().width() * i.rect().height()).data(FaceRole)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._pressed_at = event.position().toPoint()
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        start, self._pressed_at = self._pressed_at, None
        here = event.position().toPoint()
        if start is not None and (here - start).manhattanLength() <= CLICK_SLOP:
            face = self.face_at(here)
            if face is not None:
                self.face_clicked.emit(face)

    def wheelEvent(self, event: QWheelEvent) -> None:
        step = ZOOM_STEP if event.angleDelta().y() > 0 else 1 / ZOOM_STEP
        self.set_zoom(self.zoom() * step)

    def resizeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().resizeEvent(event)
        if self.fit_mode:
            self.fit()


class _Loader(QObject):
    """Decodes on a Python thread. Not parented to the viewer: a viewer closed mid-decode is simply
    no longer connected when the image arrives."""

    loaded = Signal(int, object, str)  # (generation, QImage or None, error)

    def load(self, generation: int, path: str) -> None:
        threading.Thread(target=self._run, args=(generation, path), daemon=True, name="viewer-load").start()

    def _run(self, generation: int, path: str) -> None:
        try:
            with open(path, "rb") as fh:
                data = fh.read()
            decoded = decode_image(data, sniff_format(data[:64]), long_side=VIEW_LONG_SIDE)
            self.loaded.emit(generation, to_qimage(decoded.image), "")
        except DecodeError as exc:
            self.loaded.emit(generation, None, exc.reason)
        except OSError as exc:
            self.loaded.emit(generation, None, f"cannot read the file: {exc.strerror or exc}")


class Viewer(QWidget):
    rating_set = Signal(int, object)  # (photo id, 1-5, -1 rejected or None): keys 0-5 and X
    face_named = Signal(int, str)  # (face id, name): a click on a face box, then a name

    def __init__(self, thumbs_dir: Path, ids: list[int], index: int, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.thumbs_dir = thumbs_dir
        self.ids = ids
        self.index = index
        self.photo: Photo | None = None
        self._generation = 0
        self.name_dialog: QInputDialog | None = None
        self.view = PhotoView()
        self.status = QLabel()
        self.toolbar = QToolBar()
        self.overlay = self._action("Faces", "O", self._toggle_faces, checkable=True)
        self.overlay.setChecked(True)
        self._action("Fit", "F", self.view.fit)
        self._action("100%", "Z", self.view.actual_size)  # Lightroom's key: the digits rate
        self._action(
            "Zoom in", QKeySequence.StandardKey.ZoomIn, lambda: self.view.set_zoom(self.view.zoom() * ZOOM_STEP)
        )
        self._action(
            "Zoom out", QKeySequence.StandardKey.ZoomOut, lambda: self.view.set_zoom(self.view.zoom() / ZOOM_STEP)
        )
        self._action("Previous", Qt.Key.Key_Left, lambda: self.step(-1))
        self._action("Next", Qt.Key.Key_Right, lambda: self.step(1))
        self._action("Fullscreen", Qt.Key.Key_F11, self.toggle_fullscreen)
        close = QAction(self)
        close.setShortcut(Qt.Key.Key_Escape)
        close.triggered.connect(self._escape)
        self.addAction(close)
        for rating, key in RATING_KEYS:  # keys only: the toolbar stays for viewing
            rate = QAction(rating_text(rating), self)
            rate.setShortcut(QKeySequence(key))
            rate.triggered.connect(lambda _=False, r=rating: self._rate(r))
            self.addAction(rate)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)
        self.view.zoom_changed.connect(lambda _: self._update_status())
        self.view.face_clicked.connect(self.ask_name)
        self.loader = _Loader()
        self.loader.loaded.connect(self._on_loaded)
        self.resize(1100, 800)
        self.show_index(index)

    def _action(self, text: str, key, slot, checkable: bool = False) -> QAction:  # type: ignore[no-untyped-def]
        action = QAction(text, self, checkable=checkable)
        action.setShortcut(QKeySequence(key))
        action.setToolTip(f"{text} ({action.shortcut().toString()})")
        action.triggered.connect(slot)
        self.toolbar.addAction(action)
        self.addAction(action)
        return action

    # -- navigation -------------------------------------------------------------------------------
    def step(self, delta: int) -> None:
        if self.ids:
            self.show_index((self.index + delta) % len(self.ids))

    def show_index(self, index: int) -> None:
        self.index = index
        self.photo = Photo.get_or_none(Photo.id == self.ids[index])
        if self.photo is None:
            return
        self._generation += 1
        self.view.fit_mode = True
        full_width = self.photo.width or 1
        if self.photo.thumb_key:
            preview = QPixmap(str(thumb_path(self.thumbs_dir, self.photo.thumb_key, 1024)))
            if not preview.isNull():
                self.view.set_pixmap(preview, full_width)
        self.show_faces()
        self.setWindowTitle(f"{self.photo.filename} — {index + 1} of {len(self.ids)} — Tessera")
        self._update_status("loading full image…")
        self.loader.load(self._generation, local_path(self.photo.path))

    def show_faces(self) -> None:
        """The photo's face boxes with their names (again after a face was named)."""
        if self.photo is not None:
            self.view.set_faces(photo_faces(self.photo.id), self.overlay.isChecked())

    def ask_name(self, face_id: int) -> None:
        """Who is this? An editable list of the names known; the answer names the face (confirmed)."""
        face = next((f for f in photo_faces(self.photo.id) if f.id == face_id), None) if self.photo else None
        if face is None:
            return
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Name this face")
        dialog.setLabelText("Who is this?")
        dialog.setComboBoxEditable(True)
        dialog.setComboBoxItems(person_names())
        dialog.setTextValue(face.person or "")
        dialog.textValueSelected.connect(lambda name: name.strip() and self.face_named.emit(face_id, name.strip()))
        self.name_dialog = dialog
        dialog.open()

    def _on_loaded(self, generation: int, image: QImage | None, error: str) -> None:
        if generation != self._generation or self.photo is None:
            return  # the user moved on
        if image is not None:
            self.view.set_pixmap(QPixmap.fromImage(image), self.photo.width or image.width())
        self._update_status(error)

    def _rate(self, rating: int | None) -> None:
        """Culling while viewing: the main window stores the rating, then the status line shows it."""
        if self.photo is not None:
            self.rating_set.emit(self.photo.id, rating)
            self.photo = Photo.get_or_none(Photo.id == self.photo.id)
            self._update_status()

    # -- display ----------------------------------------------------------------------------------
    def _toggle_faces(self) -> None:
        self.view.show_faces(self.overlay.isChecked())

    def toggle_fullscreen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def _escape(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.close()

    def _update_status(self, note: str = "") -> None:
        if self.photo is None:
            return
        p = self.photo
        text = f"  {p.width}×{p.height}   zoom {self.view.zoom() * 100:.0f}%   {len(self.view.face_items)} faces"
        if p.rating:
            text += f"   {rating_text(p.rating)}"
        self.status.setText(text + (f"   — {note}" if note else ""))
