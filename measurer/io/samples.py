"""Where the bundled sample images and the application icon are.

The samples are made by ``resources/make_samples.py`` and described, with their ground truth, in
``measurer/resources/samples/README.md``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

#: The bundled samples, in the order a menu lists them.
SAMPLE_NAMES = (
    "layered_micrograph.png",
    "retina_hole_mask.png",
    "retina_hole_mask.tif",
    "calibrated_16bit.tif",
    "stack_16bit.tif",
)


def _resource_dir() -> Path:
    root = resources.files("measurer.resources")
    if not isinstance(root, Path):
        raise RuntimeError(
            f"measurer's data files are not in a folder ({root!r}); install measurer unzipped"
        )
    return root


def sample_paths() -> dict[str, Path]:
    """The bundled sample images: file name → path, in :data:`SAMPLE_NAMES` order."""
    folder = _resource_dir() / "samples"
    return {name: folder / name for name in SAMPLE_NAMES}


def icon_path() -> Path:
    """The application icon, a 256×256 PNG."""
    return _resource_dir() / "icon.png"
