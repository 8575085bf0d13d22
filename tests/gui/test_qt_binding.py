"""Guards against a Qt-binding bug that killed the app: PySide6 6.12.0 dropped a reference to None
every time a Python model's data() returned None, so the interpreter aborted ("deallocating None")
after some seconds of scrolling the grid."""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt

from app.gui.grid_model import PhotoListModel


def test_model_data_returning_none_keeps_none_alive(qapp) -> None:
    model = PhotoListModel()
    model._ids = [1]  # a row whose details are never read: only the unhandled roles are asked
    index = model.index(0)
    before = sys.getrefcount(None)
    for _ in range(2000):
        assert index.data(Qt.ItemDataRole.DecorationRole) is None
    assert sys.getrefcount(None) - before > -50  # a leak shows as -2000
