"""Light and dark themes. "system" follows the desktop's color scheme (and its changes)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

THEMES = ("system", "light", "dark")


def _dark_palette() -> QPalette:
    p = QPalette()
    role = QPalette.ColorRole
    colors = {
        role.Window: "#2b2b2b", role.WindowText: "#e6e6e6", role.Base: "#1f1f1f", role.AlternateBase: "#333333",
        role.ToolTipBase: "#3a3a3a", role.ToolTipText: "#f0f0f0", role.Text: "#e6e6e6", role.Button: "#353535",
        role.ButtonText: "#e6e6e6", role.BrightText: "#ff5555", role.Highlight: "#2f6fd6",
        role.HighlightedText: "#ffffff", role.Link: "#6ea8ff", role.PlaceholderText: "#8a8a8a",
    }  # fmt: skip
    for r, c in colors.items():
        p.setColor(r, QColor(c))
    for r in (role.Text, role.ButtonText, role.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, r, QColor("#7a7a7a"))
    return p


def system_is_dark() -> bool:
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication, theme: str) -> str:
    """Applies `theme` and returns the one in effect ("light" or "dark")."""
    app.setStyle("Fusion")  # the same look on every desktop; palettes apply fully
    effective = ("dark" if system_is_dark() else "light") if theme == "system" else theme
    app.setPalette(_dark_palette() if effective == "dark" else app.style().standardPalette())
    return effective
