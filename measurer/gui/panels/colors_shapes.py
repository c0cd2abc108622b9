"""Colour results as annotations: object outlines along pixel edges, and occupied cells.

Cells matched against reference images also get their scores, kept by the run's step. Colours
picked on the image (classes and background) are sampled here too.

No Qt here: the functions run on the worker thread together with the analysis, so tracing
hundreds of outlines never blocks the window.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from measurer.core.annotations import Annotation, Kind
from measurer.core.derived_colors import CELL_PREFIX, ROLE_PREFIX


@dataclass(frozen=True)
class PickedClass:
    """A colour picked on the image (class or background): name, value in image units, RGB 0-255."""

    name: str
    value: tuple[float, float, float]
    display: tuple[int, int, int]


def sample_colour(image: np.ndarray, row: float, col: float) -> tuple[float, float, float] | None:
    """Median colour of the 3×3 pixels around pixel ``(row, col)`` (grey repeated; alpha dropped).

    None when the pixel nearest ``(row, col)`` is outside the image.
    """
    row, col = round(row), round(col)
    if not (0 <= row < image.shape[0] and 0 <= col < image.shape[1]):
        return None
    window = np.asarray(image[max(0, row - 1) : row + 2, max(0, col - 1) : col + 2], float)
    if window.ndim == 2:
        window = window[..., None]
    window = window[..., :3] if window.shape[2] >= 3 else window[..., :1].repeat(3, axis=2)
    red, green, blue = np.median(window.reshape(-1, 3), axis=0)
    return float(red), float(green), float(blue)


def display_colour(value: tuple[float, ...], image: np.ndarray) -> tuple[int, int, int]:
    """A colour in the image's units as RGB 0-255 (as the analysis scales the image)."""
    if np.issubdtype(image.dtype, np.integer):
        top = float(np.iinfo(image.dtype).max)
    else:
        top = max(1.0, float(np.max(image)))
    red, green, blue = (int(np.clip(round(v / top * 255), 0, 255)) for v in value)
    return red, green, blue


def colour_text(value: tuple[float, ...]) -> str:
    """``"200, 30.5, 30"``: a colour's values as short text."""
    return ", ".join(f"{v:g}" for v in value)


def pixel_outline(mask: np.ndarray) -> np.ndarray:
    """The outline of a mask's one 8-connected object along pixel edges, round its holes too.

    Parameters
    ----------
    mask : ndarray of shape (M, N)
        Nonzero pixels are the object: one 8-connected component.

    Returns
    -------
    ndarray of shape (K, 2)
        Polygon vertices ``(row, col)`` at pixel corners (``x.5``), without collinear vertices:
        :func:`~measurer.analysis.outlines.mask_outline_polygon` with ``holes=True``, so the
        polygon's area is the object's pixel count (holes excluded) and its pixels are the
        object's. Two pixels touching by a corner share that corner as a vertex.
    """
    from measurer.analysis.outlines import mask_outline_polygon

    return mask_outline_polygon(mask, holes=True)


def object_shapes(result: Any) -> list[Annotation]:
    """One polygon per object of a :class:`ColorObjectsResult`, traced from its label image.

    Objects of a class are numbered in the result's order (largest first), so role
    ``"colors:<class>:<i>"`` is the result's i-th object of that class.
    """
    import cv2

    shapes = []
    names = list(result.counts)
    for index, name in enumerate(names):
        mask = (result.labels == index).astype(np.uint8)
        _, components, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        order = np.argsort(-stats[1:, cv2.CC_STAT_AREA], kind="stable") + 1
        for i, component in enumerate(order):
            left, top, width, height, _ = stats[component]
            crop = components[top : top + height, left : left + width] == component
            outline = pixel_outline(crop) + np.array([top, left])
            shapes.append(
                Annotation(0, Kind.POLYGON, outline, label=name, role=f"{ROLE_PREFIX}{name}:{i}")
            )
    return shapes


def cell_shapes(result: Any, grid: Any) -> list[Annotation]:
    """One rectangle (on the cell's pixel edges) per occupied cell of a :class:`GridResult`."""
    shapes = []
    for cell in result.cells:
        if cell.label is None:
            continue
        r0, c0, r1, c1 = grid.cell_bounds(cell.row, cell.col)
        shapes.append(
            Annotation(
                0,
                Kind.RECTANGLE,
                [(r0 - 0.5, c0 - 0.5), (r1 - 0.5, c1 - 0.5)],
                label=cell.label,
                role=f"{CELL_PREFIX}{cell.row}:{cell.col}",
            )
        )
    return shapes


def find_objects(image: np.ndarray, **options: Any) -> tuple[Any, list[Annotation]]:
    """:func:`~measurer.analysis.colors.find_color_objects` and the objects' outlines."""
    from measurer.analysis.colors import find_color_objects

    result = find_color_objects(image, **options)
    return result, object_shapes(result)


def classify_cells(image: np.ndarray, grid: Any, **options: Any) -> tuple[Any, list[Annotation]]:
    """:func:`~measurer.analysis.colors.classify_grid` and a mark per occupied cell."""
    from measurer.analysis.colors import classify_grid

    result = classify_grid(image, grid, **options)
    return result, cell_shapes(result, grid)


def cell_scores(result: Any) -> dict[str, list]:
    """``{cell role: [reference, score]}`` for each marked cell of a reference run.

    Scores are rounded to 4 decimals: the step's parameters go into sessions.
    """
    return {
        f"{CELL_PREFIX}{cell.row}:{cell.col}": [cell.label, round(float(cell.score), 4)]
        for cell in result.cells
        if cell.label is not None
    }


def match_cells(
    image: np.ndarray, grid: Any, references: Mapping[str, np.ndarray], *, min_score: float
) -> tuple[Any, list[Annotation]]:
    """:func:`~measurer.analysis.colors.match_grid` and a mark per cell that matched a reference."""
    from measurer.analysis.colors import match_grid

    result = match_grid(image, grid, references, min_score=min_score)
    return result, cell_shapes(result, grid)
