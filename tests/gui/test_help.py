"""Help menu: the guide and the measurement definitions open and cover what the app has."""

import pytest
from PySide6.QtWidgets import QWidget

from measurer.core.annotations import Kind, Origin
from measurer.core.measurements import INFO_COLUMNS, QUANTITIES
from measurer.gui.help import read_help, show_definitions, show_guide
from measurer.gui.menus import TOOLS


@pytest.fixture
def window(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    return widget


def test_definitions_cover_every_column(window):
    dialog = show_definitions(window)
    assert dialog.isVisible()
    assert dialog.windowTitle() == "Measurement definitions"
    text = dialog.browser.toPlainText()
    lines = [line.strip() for line in read_help("measurements").splitlines()]
    rows = {line.split("|")[1].strip() for line in lines if line.startswith("| ")}
    described = set()
    for line in lines:
        if line.startswith("### "):  # "### Angle (lines)", "### Mean, StdDev, Min, Max"
            described.update(name.strip() for name in line[4:].split(" (")[0].split(","))
    assert set(QUANTITIES) <= described, set(QUANTITIES) - described
    assert set(INFO_COLUMNS) <= rows, set(INFO_COLUMNS) - rows
    assert {origin.value for origin in Origin} <= rows
    for kind in Kind:
        assert kind.value in text
    # Rendered, not shown as Markdown source.
    assert "###" not in text and "**" not in text
    assert "Ellipse perimeter" in text and "n − 1" in text


def test_guide_lists_every_tool_with_its_key(window):
    dialog = show_guide(window)
    assert dialog.windowTitle() == "Quick guide"
    source = read_help("guide")
    for _tool, text, shortcut, _tip in TOOLS:
        assert f"| {shortcut} | {text.replace('&', '')} |" in source, text
    plain = dialog.browser.toPlainText()
    for topic in ("Open an image", "Set the scale", "Esc", "Ctrl+Shift+Z", "autosave", "CSV"):
        assert topic in plain, topic


def test_a_help_window_is_reused(window):
    first = show_guide(window)
    first.close()
    again = show_guide(window)
    assert again is first and again.isVisible()
    assert show_definitions(window) is not first
