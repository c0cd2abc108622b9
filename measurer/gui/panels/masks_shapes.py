"""Mask analyses as annotations: blob outlines, landmarks, gaps and retina landmarks.

No Qt here: :func:`analyse_masks` runs on the worker thread with the analysis, so turning
10,000 blobs into annotations never blocks the window. Roles and the derived rows they feed are
described in :mod:`measurer.core.derived_masks`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from measurer.core.annotations import Annotation, Kind
from measurer.core.derived_masks import (
    BLOB_PREFIX,
    RETINA_PREFIX,
    ROLE_PREFIX,
    landmark_label,
    pit_bottom_label,
)

#: Where the foreground comes from.
SOURCES = ("image", "two_masks", "two_classes")
#: How the current image (and a second mask) becomes a binary mask.
FOREGROUNDS = ("nonzero", "threshold", "class")
PRESETS = ("none", "hole", "pit", "auto")


@dataclass(frozen=True)
class MaskOptions:
    """What the masks panel asks for.

    ``class_a``/``class_b`` are class values (a number, or ``(R, G, B)``); ``min_area`` 0 is
    automatic (1 px for blobs, 1 % of the retina for the retina presets); ``roi`` is
    ``("rect", (row, col, rows, cols))`` or ``("polygon", vertices)``; ``pair`` names the two
    blobs whose gap is measured (0: the largest, then the next largest).
    """

    source: str = "image"
    foreground: str = "nonzero"
    threshold: float = 0.0
    class_a: Any = None
    class_b: Any = None
    connectivity: int = 8
    min_area: int = 0
    roi: tuple[str, Any] | None = None
    landmarks: tuple[str, ...] = ("deepest",)
    pair: tuple[int, int] = (0, 0)
    preset: str = "none"
    pixel_width: float = 1.0
    pixel_height: float = 1.0
    microns_per_unit: float | None = None
    unit: str = "px"

    @property
    def two_regions(self) -> bool:
        """Two regions A and B (two masks, or two classes) instead of one mask."""
        return self.source != "image"

    def gap_between(self) -> str:
        """Between which blobs or regions the gap is measured, as the rows name it."""
        if self.two_regions:
            return "A–B"
        a, b = self.pair
        if a and b:
            return f"{a}–{b}"
        if a or b:
            return f"{a or b}–largest other blob"
        return "(two largest blobs)"

    def parameters(self, second_mask: str | None = None) -> dict[str, Any]:
        """JSON-ready step parameters, with the distances the derived rows measure."""
        roi = None if self.roi is None else {self.roi[0]: np.asarray(self.roi[1]).tolist()}
        out: dict[str, Any] = {
            "source": self.source,
            "foreground": self.foreground,
            "threshold": self.threshold,
            "class_a": _plain(self.class_a),
            "class_b": _plain(self.class_b),
            "second_mask": second_mask,
            "connectivity": self.connectivity,
            "min_area": self.min_area,
            "roi": roi,
            "preset": self.preset,
        }
        if self.preset != "none":
            return out
        between = self.gap_between()
        out["landmarks"] = list(self.landmarks)
        out["pair"] = list(self.pair)
        out["distances"] = [
            [f"{ROLE_PREFIX}closest_a", f"{ROLE_PREFIX}closest_b", f"shortest gap {between}"],
            [f"{ROLE_PREFIX}gap_left", f"{ROLE_PREFIX}gap_right", f"horizontal gap {between}"],
        ]
        if self.two_regions:
            out["lines"] = [
                [
                    f"{ROLE_PREFIX}b_deepest",
                    f"{ROLE_PREFIX}margin_left",
                    f"{ROLE_PREFIX}margin_right",
                    "B deepest to A's margin line",
                ]
            ]
        return out


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, int | float | str):
        return value
    return [v.item() if hasattr(v, "item") else v for v in value]


@dataclass(frozen=True)
class MasksOutcome:
    """Annotations to apply and a one-line summary of what was found."""

    shapes: list[Annotation]
    summary: str


def roi_of(annotation: Annotation) -> tuple[str, Any]:
    """An ROI option from a rectangle (corners on pixel edges) or a polygon annotation.

    A rectangle keeps the pixels whose centres lie inside it (or on its edge).
    """
    if annotation.kind is Kind.RECTANGLE:
        (r0, c0), (r1, c1) = np.sort(annotation.vertices, axis=0)
        first = (math.ceil(r0), math.ceil(c0))
        return "rect", (
            first[0],
            first[1],
            math.floor(r1) - first[0] + 1,
            math.floor(c1) - first[1] + 1,
        )
    if annotation.kind in (Kind.POLYGON, Kind.FREEHAND):
        return "polygon", np.asarray(annotation.vertices)
    raise ValueError("an ROI is a rectangle or a polygon")


def foreground(image: np.ndarray, options: MaskOptions, value: Any = None) -> np.ndarray:
    """The binary mask of ``image`` by ``options.foreground`` (``value``: the class)."""
    from measurer.analysis.masks import MaskError, as_binary

    if options.foreground == "threshold":
        return as_binary(image, threshold=options.threshold)
    if options.foreground == "class":
        if value is None:
            raise MaskError("choose the class to use as the mask")
        return as_binary(image, value=value)
    return as_binary(image)


def region_masks(
    image: np.ndarray, second: np.ndarray | None, options: MaskOptions
) -> list[tuple[str, np.ndarray]]:
    """The masks to analyse, named: ``[("", mask)]``, or ``[("A", a), ("B", b)]``, in the ROI.

    A second mask is read with the same rule as the image (any nonzero pixel, the threshold,
    or class A).
    """
    from measurer.analysis.masks import MaskError, as_binary, restrict_to_roi

    if options.source == "two_masks":
        if second is None:
            raise MaskError("choose the second mask first (Second mask…)")
        if second.shape[:2] != image.shape[:2]:
            raise MaskError(
                f"the second mask is {second.shape[1]} × {second.shape[0]} px but the image is "
                f"{image.shape[1]} × {image.shape[0]} px: they must be the same size"
            )
        try:
            second_mask = foreground(second, options, options.class_a)
        except MaskError as exc:
            raise MaskError(f"second mask: {exc}") from exc
        masks = [("A", foreground(image, options, options.class_a)), ("B", second_mask)]
    elif options.source == "two_classes":
        if options.class_a is None or options.class_b is None:
            raise MaskError("choose the two classes A and B")
        if np.array_equal(np.atleast_1d(options.class_a), np.atleast_1d(options.class_b)):
            raise MaskError("classes A and B are the same class: choose two different ones")
        masks = [
            (n, as_binary(image, value=v))
            for n, v in (("A", options.class_a), ("B", options.class_b))
        ]
    else:
        masks = [("", foreground(image, options, options.class_a))]
    if options.roi is not None:
        kind, value = options.roi
        masks = [(n, restrict_to_roi(m, **{kind: value})) for n, m in masks]
    return masks


def _point(vertex: Sequence[float], role: str, label: str) -> Annotation:
    return Annotation(0, Kind.POINTS, [vertex], label=label, role=role)


def blob_outlines(blobs: Any, mask: np.ndarray) -> list[np.ndarray]:
    """Each blob's outline along pixel edges, round its holes too (a keyhole polygon).

    ``blobs`` comes from ``blob_stats(mask, ..., outlines=True)``. The area, centroid and
    pixels of each polygon are the blob's, holes excluded. Blobs whose outer outline encloses
    nothing else keep it; the others are traced again with
    :func:`~measurer.analysis.outlines.mask_outline_polygon` (``holes=True``) in their box.
    """
    from scipy import ndimage as ndi

    from measurer.analysis.outlines import mask_outline_polygon

    vertices, offsets = blobs.outline_vertices, blobs.outline_offsets
    outlines = [blobs.outline(i) for i in range(len(blobs))]
    following = np.roll(vertices, -1, axis=0)
    following[offsets[1:] - 1] = vertices[offsets[:-1]]
    cross = vertices[:, 1] * following[:, 0] - following[:, 1] * vertices[:, 0]
    enclosed = np.add.reduceat(cross, offsets[:-1]) / 2 if len(blobs) else cross
    structure = np.ones((3, 3), bool) if blobs.connectivity == 8 else None
    for i in np.flatnonzero(enclosed != blobs.area):  # blobs with holes
        top, left, height, width = blobs.bbox[i]
        labels, _ = ndi.label(mask[top : top + height, left : left + width], structure)
        seed = labels[blobs.topmost[i][0] - top, blobs.topmost[i][1] - left]
        outlines[i] = mask_outline_polygon(
            labels == seed, connectivity=blobs.connectivity, holes=True
        ) + np.array([top, left])
    return outlines


def blob_shapes(
    blobs: Any, mask: np.ndarray, name: str, landmarks: Sequence[str]
) -> list[Annotation]:
    """Each blob's outline (role ``"masks:blob:<name><i>"``) followed by its landmarks.

    ``blobs`` comes from ``blob_stats(mask, ..., outlines=True)``; the outlines are those of
    :func:`blob_outlines`, so a blob's polygon row has the blob's area (holes excluded) and
    centroid. ``landmarks`` are names of :data:`~measurer.core.derived_masks.EXTREMES`; the
    deepest point is the blob's bottommost pixel.
    """
    arrays = {e: blobs.bottommost if e == "deepest" else getattr(blobs, e) for e in landmarks}
    shapes = []
    for i, outline in enumerate(blob_outlines(blobs, mask)):
        label = f"{name}{i + 1}"
        shapes.append(
            Annotation(0, Kind.POLYGON, outline, label=f"blob {label}", role=BLOB_PREFIX + label)
        )
        for extreme, points in arrays.items():
            shapes.append(
                _point(points[i], f"{ROLE_PREFIX}{extreme}:{label}", f"{extreme} {label}")
            )
    return shapes


def gap_shapes(
    mask_a: np.ndarray,
    mask_b: np.ndarray,
    names: tuple[str, str],
    scale: tuple[float, float],
    unit: str = "px",
) -> tuple[list[Annotation], str]:
    """The closest pair (physical, between pixel edges) and the horizontal-gap pair of two
    regions as landmarks, with a summary."""
    from measurer.analysis.gaps import closest_pair, horizontal_gap

    pair = closest_pair(mask_a, mask_b, row_scale=scale[0], col_scale=scale[1])
    shapes = [
        _point(pair.point_a, f"{ROLE_PREFIX}closest_a", f"closest {names[0]}"),
        _point(pair.point_b, f"{ROLE_PREFIX}closest_b", f"closest {names[1]}"),
    ]
    gap = horizontal_gap(mask_a, mask_b)
    summary = f"shortest gap {names[0]}–{names[1]}: {pair.distance:.4g} {unit}"
    if gap.row is None:
        return shapes, summary + "; no row where they stand side by side"
    i = int(np.flatnonzero(gap.rows == gap.row)[0])
    left, right = names if gap.a_is_left else names[::-1]
    shapes += [
        _point((gap.row, gap.left_cols[i] + 0.5), f"{ROLE_PREFIX}gap_left", f"margin {left}"),
        _point((gap.row, gap.right_cols[i] - 0.5), f"{ROLE_PREFIX}gap_right", f"margin {right}"),
    ]
    return shapes, summary + f"; horizontal gap {gap.minimum:g} px at row {gap.row}"


def _pick_pair(blobs: Any, pair: tuple[int, int]) -> tuple[int, int]:
    """Labels of the two blobs whose gap is measured (0: largest, then next largest)."""
    from measurer.analysis.masks import MaskError

    n = len(blobs)
    for label in pair:
        if not 0 <= label <= n:
            raise MaskError(f"there is no blob {label}: the blobs are numbered 1 to {n}")
    by_size = [int(i) + 1 for i in np.argsort(-blobs.area, kind="stable")]
    a = pair[0] or next(label for label in by_size if label != pair[1])
    b = pair[1] or next(label for label in by_size if label != a)
    if a == b:
        raise MaskError("the gap needs two different blobs")
    return a, b


def _blobs(masks: list[tuple[str, np.ndarray]], options: MaskOptions) -> MasksOutcome:
    from measurer.analysis.blobs import blob_stats, label_blobs
    from measurer.analysis.gaps import deepest_to_margin_line

    scale = (options.pixel_height, options.pixel_width)
    min_area = max(1, options.min_area)
    shapes, parts, results = [], [], []
    for name, mask in masks:
        blobs = blob_stats(
            mask, connectivity=options.connectivity, min_area=min_area, outlines=True
        )
        shapes += blob_shapes(blobs, mask, name, options.landmarks)
        results.append(blobs)
        edge = int(np.count_nonzero(blobs.touches_edge))
        count = f"{len(blobs)} blob{'s' if len(blobs) != 1 else ''}"
        parts.append(
            f"{name + ': ' if name else ''}{count}" + (f" ({edge} at the edge)" if edge else "")
        )
    if options.two_regions:
        (_, a), (_, b) = masks
        if not a.any() or not b.any():
            parts.append(f"region {'A' if not a.any() else 'B'} is empty: no gap")
        else:
            gap, text = gap_shapes(a, b, ("A", "B"), scale, options.unit)
            comparison = deepest_to_margin_line(
                a, b, connectivity=options.connectivity, row_scale=scale[0], col_scale=scale[1]
            )
            shapes += [
                *gap,
                _point(comparison.margin_left, f"{ROLE_PREFIX}margin_left", "A margin left"),
                _point(comparison.margin_right, f"{ROLE_PREFIX}margin_right", "A margin right"),
                _point(
                    comparison.deepest, f"{ROLE_PREFIX}b_deepest", "B deepest below A's margins"
                ),
            ]
            parts.append(text)
    elif len(results[0]) >= 2:
        a, b = _pick_pair(results[0], options.pair)
        labels = label_blobs(masks[0][1], connectivity=options.connectivity, min_area=min_area)
        gap, text = gap_shapes(labels == a, labels == b, (str(a), str(b)), scale, options.unit)
        shapes += gap
        parts.append(text)
    return MasksOutcome(shapes, "; ".join(parts) + ".")


def _retina(masks: list[tuple[str, np.ndarray]], options: MaskOptions) -> MasksOutcome:
    from measurer.analysis.retina import measure_retina

    mask = masks[0][1] if len(masks) == 1 else masks[0][1] | masks[1][1]
    result = measure_retina(
        mask,
        kind=options.preset,
        pixel_width=options.pixel_width,
        pixel_height=options.pixel_height,
        microns_per_unit=options.microns_per_unit,
        min_area=options.min_area or None,
    )
    shapes = []
    for name, point in result.landmarks.items():
        label = landmark_label(RETINA_PREFIX + name)
        if name == "pit_bottom" and math.isfinite(result.max_slope_deg):
            label = pit_bottom_label(result.max_slope_deg)
        shapes.append(_point(point, RETINA_PREFIX + name, label))
    if result.kind == "hole":
        summary = f"Macular hole (base line tilted {result.tilt_deg:.1f}°)"
        if result.size_class is not None:
            summary += f", {result.size_class}"
    else:
        summary = f"Foveal pit (base line tilted {result.tilt_deg:.1f}°)"
    if options.microns_per_unit is None:
        summary += "; uncalibrated: lengths in pixels and no size class (set the scale for µm)"
    return MasksOutcome(shapes, summary + ".")


def analyse_masks(
    image: np.ndarray, second: np.ndarray | None, options: MaskOptions
) -> MasksOutcome:
    """Run the blob (or retina) analysis the options ask for and make its annotations.

    Raises :class:`~measurer.analysis.masks.MaskError` with a readable message for masks that
    cannot be analysed (not binary, empty, different sizes, too few parts...).
    """
    masks = region_masks(image, second, options)
    if options.preset != "none":
        return _retina(masks, options)
    return _blobs(masks, options)
