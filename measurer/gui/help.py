"""Help menu: the quick guide and the measurement definitions, shown from Markdown files."""

from __future__ import annotations

from importlib import resources

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

#: Help pages: file in ``measurer/resources/help`` and window title.
PAGES = {
    "guide": ("guide.md", "Quick guide"),
    "measurements": ("measurements.md", "Measurement definitions"),
}


#: Definitions of each analysis's measurements, appended to the measurement definitions.
ANALYSIS_PAGES = ("retina.md", "layers.md", "detections.md", "similarity.md")


def read_help(page: str) -> str:
    """The Markdown text of a help page (``"guide"`` or ``"measurements"``).

    The measurement definitions include the documents of every analysis that ships one.
    """
    folder = resources.files("measurer.resources") / "help"
    name, _title = PAGES[page]
    text = (folder / name).read_text(encoding="utf-8")
    if page == "measurements":
        for extra in ANALYSIS_PAGES:
            if (folder / extra).is_file():
                text += "\n\n---\n\n" + (folder / extra).read_text(encoding="utf-8")
    return text


class HelpDialog(QDialog):
    """A non-modal window showing one help page."""

    def __init__(self, page: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(PAGES[page][1])
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setMarkdown(read_help(page))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.resize(760, 640)


def _show(page: str, parent: QWidget | None) -> HelpDialog:
    """Show a help page, raising its window if it is already open."""
    for child in parent.findChildren(HelpDialog) if parent is not None else ():
        if child.windowTitle() == PAGES[page][1]:
            child.show()
            child.raise_()
            child.activateWindow()
            return child
    dialog = HelpDialog(page, parent)
    dialog.show()
    return dialog


def show_guide(parent: QWidget | None = None) -> HelpDialog:
    """Help → Quick guide."""
    return _show("guide", parent)


def show_definitions(parent: QWidget | None = None) -> HelpDialog:
    """Help → Measurement definitions."""
    return _show("measurements", parent)
