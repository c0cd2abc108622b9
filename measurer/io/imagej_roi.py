"""ImageJ ROI files (``.roi``) and ROI sets (``.zip``) to and from annotations, through roifile.

Coordinates (verified against ImageJ 1.53t's own decoder, display and measurements): ImageJ uses
two conventions, and each annotation kind is converted with the one ImageJ applies to it, so a ROI
covers, samples and is drawn on the same pixels in Fiji as in measurer.

* Area ROIs (rectangle, oval, polygon, freehand, traced) have pixel corners at integers: pixel
  ``(row, col)`` spans ``x = col .. col + 1``. Measurer ``(r, c)`` is ImageJ ``(x, y) =
  (c + 0.5, r + 0.5)``; the rectangle with corners ``(-0.5, -0.5)`` and ``(9.5, 19.5)`` is ImageJ's
  ``x=0 y=0 w=20 h=10``. ImageJ covers the pixels whose centres are inside polygons, and inside
  rectangles and ovals whose corners lie on pixel edges, as measurer does. One difference no
  conversion can remove: ImageJ measures a rectangle or oval whose corners are *not* on pixel
  edges over every pixel its bounding box touches (it keeps the exact corners for display and
  for this round trip), so such shapes can cover an extra row or column in Fiji.
* Points, lines, polylines and angles follow ImageJ's "line subpixel convention": pixel centres
  at integers, like measurer's. Measurer ``(r, c)`` is ImageJ ``(x, y) = (c, r)``. ImageJ draws
  the point ``(7, 5)`` on pixel column 7, row 5, and samples a line from ``(3, 5)`` to ``(12, 5)``
  at exactly the pixels 3..12 of row 5 (adding 0.5 would move the drawn point to the corner
  between four pixels and blend two rows into the profile). ImageJ measures a point at pixel
  ``(floor(x), floor(y))``, so points at pixel centres measure the same pixel in both programs.

Kinds: points -> multi-point (counter classes as ImageJ 1.52+ counters), line -> straight line,
profile -> straight line whose stroke width is the band width, polyline -> segmented line, angle,
rectangle, ellipse -> oval, polygon -> polygon (a polygon along pixel edges, as
:func:`measurer.analysis.outlines.mask_outline_polygon` traces blobs, is written as a traced ROI
with integer corners, the form ImageJ's wand and Analyze Particles give), freehand. Coordinates
are written as floats wherever the format allows; the format stores 32-bit floats, so a round trip
keeps coordinates to float32 precision (exactly for values such as multiples of 1/64).

Names: ``"0001-label"`` (position in the set, then the label; ``"0001"`` without a label), so
names are unique and the set keeps its order in Fiji's ROI Manager. The label itself also goes
into the ROI properties (``measurer_label``, percent-encoded), and a profile's kind into
``measurer_kind``. Reading takes the label from the properties while the name still matches it,
and otherwise the ROI's name as Fiji shows it (a ROI made or renamed in Fiji keeps that name).
A straight line wider than 1 pixel is read as a profile of that band width.

Reading: composite (shape), text and image overlays, rounded rectangles, spline-fitted shapes
and counters above 8 have no measurer equivalent. By default they raise
:class:`UnsupportedRoiError` listing every one; pass a list as ``skipped`` to skip them instead
and get one line per skipped ROI. Stack positions are neither written nor read.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import quote, unquote

import numpy as np
from roifile import ROI_OPTIONS, ROI_POINT_SIZE, ROI_SUBTYPE, ROI_TYPE, ImagejRoi

from measurer.core.annotations import AREA_KINDS, Annotation, Kind
from measurer.io.atomic import atomic_write_bytes

#: Coordinate range (ImageJ pixels) the ROI header's 16-bit bounds can hold.
COORDINATE_RANGE = (-5000.0, 60535.0)
#: Largest ROI entry read from a set (bytes); a polygon of a million vertices needs 12 MB.
MAX_ENTRY_BYTES = 64 * 2**20
#: Highest point class measurer has (classes 0-8).
MAX_POINT_CLASS = 8

_TYPES = {
    Kind.POINTS: ROI_TYPE.POINT,
    Kind.LINE: ROI_TYPE.LINE,
    Kind.PROFILE: ROI_TYPE.LINE,
    Kind.POLYLINE: ROI_TYPE.POLYLINE,
    Kind.ANGLE: ROI_TYPE.ANGLE,
    Kind.RECTANGLE: ROI_TYPE.RECT,
    Kind.ELLIPSE: ROI_TYPE.OVAL,
    Kind.POLYGON: ROI_TYPE.POLYGON,
    Kind.FREEHAND: ROI_TYPE.FREEHAND,
}
_KINDS = {t: k for k, t in _TYPES.items() if k is not Kind.PROFILE}
_KINDS |= {ROI_TYPE.TRACED: Kind.POLYGON, ROI_TYPE.FREELINE: Kind.POLYLINE}
_NAME = re.compile(r"\d{4,}(?:-(.*))?", re.DOTALL)


class RoiFileError(ValueError):
    """An ROI file that cannot be read or written; the message names the file (and entry)."""

    def __init__(self, path: str | os.PathLike[str], reason: str, *, writing: bool = False) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"cannot {'write' if writing else 'read'} {str(path)!r}: {reason}")


class UnsupportedRoiError(RoiFileError):
    """ROIs of a kind measurer has no annotation for (composite, text, ...)."""


def write_rois(
    path: str | os.PathLike[str],
    annotations: Iterable[Annotation],
    *,
    image_shape: Sequence[int] | None = None,
) -> Path:
    """Write annotations as an ImageJ ``.roi`` file (one) or ``.zip`` ROI set, atomically.

    Parameters
    ----------
    path : str or PathLike
        Ends in ``.roi`` (exactly one annotation) or ``.zip`` (any number).
    annotations : iterable of Annotation
    image_shape : sequence of int, optional
        ``(rows, cols, ...)`` of the image: every vertex must then lie on the image (within
        half a pixel of the outer pixel centres), which catches swapped or foreign coordinates.

    Returns
    -------
    Path

    Raises
    ------
    RoiFileError
        Wrong suffix or count, a vertex off the image or outside the format's range.
    OSError
        When the file cannot be written (an old file is left intact).
    """
    annotations = list(annotations)
    suffix = Path(path).suffix.lower()
    if suffix not in (".roi", ".zip"):
        raise RoiFileError(
            path, "an ImageJ ROI file ends in .roi (one) or .zip (a set)", writing=True
        )
    if not annotations:
        raise RoiFileError(path, "there are no annotations to write", writing=True)
    if suffix == ".roi" and len(annotations) > 1:
        raise RoiFileError(
            path, f"a .roi file holds one ROI, not {len(annotations)}: use .zip", writing=True
        )
    rois = []
    for index, annotation in enumerate(annotations, start=1):
        try:
            rois.append(_encode(annotation, roi_name(index, annotation.label), image_shape))
        except ValueError as exc:
            raise RoiFileError(path, f"annotation {annotation.id}: {exc}", writing=True) from exc
    if suffix == ".roi":
        return atomic_write_bytes(path, rois[0].tobytes())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for roi in rois:
            archive.writestr(re.sub(r"[\x00-\x1f/\\]", "_", roi.name) + ".roi", roi.tobytes())
    return atomic_write_bytes(path, buffer.getvalue())


def read_rois(
    path: str | os.PathLike[str], *, skipped: list[str] | None = None
) -> list[Annotation]:
    """Annotations from an ImageJ ``.roi`` file or ``.zip`` ROI set (recognised by content).

    Parameters
    ----------
    path : str or PathLike
    skipped : list of str, optional
        If given, ROIs measurer cannot represent are skipped and one line per ROI
        (``"entry name: reason"``) is appended here; if None they raise.

    Returns
    -------
    list of Annotation
        In file order, ids from 1, manual provenance.

    Raises
    ------
    RoiFileError
        Missing, empty, corrupt or non-ROI file, or a ROI with impossible geometry.
    UnsupportedRoiError
        ROIs without a measurer equivalent, all named, when ``skipped`` is None.
    """
    entries = _entries(path)
    annotations: list[Annotation] = []
    unsupported: list[str] = []
    for entry, data in entries:
        try:
            roi = ImagejRoi.frombytes(data)
        except Exception as exc:  # roifile raises anything on damaged bytes; keep one error type
            raise RoiFileError(path, f"{entry}: not a valid ImageJ ROI ({exc})") from exc
        reason = _unsupported(roi)
        if reason:
            unsupported.append(f"{entry}: {reason}")
            continue
        try:
            annotations.append(_decode(roi, len(annotations) + 1))
        except Exception as exc:
            raise RoiFileError(path, f"{entry}: {exc}") from exc
    if unsupported and skipped is None:
        raise UnsupportedRoiError(path, "no measurer equivalent for " + "; ".join(unsupported))
    if skipped is not None:
        skipped.extend(unsupported)
    return annotations


def roi_name(index: int, label: str) -> str:
    """Name of the ``index``-th ROI of a set (from 1): ``"0001-label"``, or ``"0001"``."""
    return f"{index:04d}-{label}" if label else f"{index:04d}"


def _encode(annotation: Annotation, name: str, image_shape: Sequence[int] | None) -> ImagejRoi:
    kind = annotation.kind
    if image_shape is not None:
        _check_on_image(annotation.vertices, image_shape)
    xy = annotation.vertices[:, ::-1] + (0.5 if kind in AREA_KINDS else 0.0)
    low, high = xy.min(axis=0), xy.max(axis=0)
    if low.min() < COORDINATE_RANGE[0] or high.max() > COORDINATE_RANGE[1]:
        low_limit, high_limit = COORDINATE_RANGE
        raise ValueError(
            f"the ImageJ ROI format holds coordinates from {low_limit:g} to {high_limit:g}"
        )
    if kind in (Kind.RECTANGLE, Kind.ELLIPSE, Kind.LINE, Kind.PROFILE):
        roi = ImagejRoi(roitype=_TYPES[kind], options=ROI_OPTIONS.SUB_PIXEL_RESOLUTION)
        roi.left, roi.top = (int(v) for v in np.floor(low))
        roi.right, roi.bottom = (int(v) + 1 for v in np.floor(high))
        if kind in (Kind.LINE, Kind.PROFILE):
            (roi.x1, roi.y1), (roi.x2, roi.y2) = xy.tolist()
        else:
            roi.xd, roi.yd = low.tolist()
            roi.widthd, roi.heightd = (high - low).tolist()
    elif kind is Kind.POLYGON and _on_pixel_edges(xy):
        roi = ImagejRoi.frompoints(np.rint(xy).astype(np.int32))
        roi.roitype, roi.options = ROI_TYPE.TRACED, ROI_OPTIONS.NONE
    else:
        roi = ImagejRoi.frompoints(xy)
        roi.roitype, roi.options = _TYPES[kind], ROI_OPTIONS.SUB_PIXEL_RESOLUTION
    roi.name = name
    properties = {"measurer_label": quote(annotation.label, safe="")}
    if kind is Kind.PROFILE:
        properties["measurer_kind"] = kind.value
        roi.stroke_width = max(1, round(annotation.width))
        roi.float_stroke_width = annotation.width
    if kind is Kind.POINTS:
        roi.point_size = ROI_POINT_SIZE.SMALL
        if any(annotation.classes):
            if max(annotation.classes) > 255 or min(annotation.classes) < 0:
                raise ValueError("ImageJ point counters run from 0 to 255")
            roi.counters = np.array(annotation.classes, np.uint8)
    roi.props = "".join(f"{key}: {value}\n" for key, value in properties.items())
    return roi


def _check_on_image(vertices: np.ndarray, image_shape: Sequence[int]) -> None:
    rows, cols = image_shape[0], image_shape[1]
    r, c = vertices[:, 0], vertices[:, 1]
    if (r < -0.5).any() or (r > rows - 0.5).any() or (c < -0.5).any() or (c > cols - 0.5).any():
        raise ValueError(f"vertices lie outside the {rows} x {cols} image")


def _on_pixel_edges(xy: np.ndarray) -> bool:
    """True for a polygon with integer ImageJ corners and only horizontal and vertical sides."""
    if not np.array_equal(xy, np.rint(xy)):
        return False
    step = np.roll(xy, -1, axis=0) - xy
    return bool(np.all((step[:, 0] == 0) != (step[:, 1] == 0)))


def _entries(path: str | os.PathLike[str]) -> list[tuple[str, bytes]]:
    """``(entry name, bytes)`` of every ROI in a .roi file or a .zip set."""
    file = Path(path)
    try:
        with open(file, "rb") as handle:
            head = handle.read(4)
            if head == b"Iout":
                data = head + handle.read(MAX_ENTRY_BYTES)
                if len(data) > MAX_ENTRY_BYTES:
                    raise RoiFileError(path, "file too large for a ROI")
                return [(file.name, data)]
    except OSError as exc:
        raise RoiFileError(path, exc.strerror or str(exc)) from exc
    if not head:
        raise RoiFileError(path, "file is empty")
    if not head.startswith(b"PK"):
        raise RoiFileError(path, "not an ImageJ ROI (.roi) or ROI set (.zip)")
    try:
        with zipfile.ZipFile(file) as archive:
            infos = [i for i in archive.infolist() if i.filename.lower().endswith(".roi")]
            if not infos:
                raise RoiFileError(path, "the ZIP archive holds no .roi entry")
            for info in infos:
                if info.file_size > MAX_ENTRY_BYTES:
                    raise RoiFileError(path, f"{info.filename}: entry too large for a ROI")
            return [(info.filename, archive.read(info)) for info in infos]
    except RoiFileError:
        raise
    except Exception as exc:  # bad archive, bad compressed data, encryption, unknown method
        raise RoiFileError(path, f"corrupt ZIP archive ({exc})") from exc


def _unsupported(roi: ImagejRoi) -> str | None:
    """Why measurer cannot represent this ROI, or None."""
    if roi.composite:
        return "composite (shape) ROI"
    if roi.subtype in (ROI_SUBTYPE.TEXT, ROI_SUBTYPE.IMAGE):
        return f"{roi.subtype.name.lower()} overlay"
    if roi.roitype not in _KINDS:
        return f"ROI type {int(roi.roitype.value)} ({roi.roitype.name.lower()})"
    if roi.roitype is ROI_TYPE.RECT and roi.rounded_rect_arc_size > 0:
        return "rounded rectangle"
    if roi.options & ROI_OPTIONS.SPLINE_FIT:
        return "spline-fitted shape"
    if roi.counters is not None and roi.counters.size and roi.counters.max() > MAX_POINT_CLASS:
        return f"point counter {int(roi.counters.max())} (measurer has classes 0-8)"
    return None


def _decode(roi: ImagejRoi, identifier: int) -> Annotation:
    kind = _KINDS[roi.roitype]
    if kind in (Kind.RECTANGLE, Kind.ELLIPSE):
        if roi.subpixelrect:
            x, y, width, height = roi.xd, roi.yd, roi.widthd, roi.heightd
        else:
            x, y, width, height = roi.left, roi.top, roi.right - roi.left, roi.bottom - roi.top
        xy = np.array([[x, y], [x + width, y + height]], float)
    elif kind is Kind.LINE:
        xy = np.array([[roi.x1, roi.y1], [roi.x2, roi.y2]], float)
    else:
        xy = np.asarray(roi.coordinates(), float).reshape(-1, 2)
    properties = _properties(roi.props)
    stroke = roi.float_stroke_width if roi.float_stroke_width > 0 else float(roi.stroke_width)
    width = 1.0
    if kind is Kind.LINE and (properties.get("measurer_kind") == "profile" or stroke > 1):
        kind, width = Kind.PROFILE, stroke if stroke > 0 else 1.0
    classes = ()
    if kind is Kind.POINTS and roi.counters is not None and len(roi.counters) == len(xy):
        classes = tuple(int(c) for c in roi.counters)
    return Annotation(
        id=identifier,
        kind=kind,
        vertices=xy[:, ::-1] - (0.5 if kind in AREA_KINDS else 0.0),
        label=_label(roi.name, properties),
        classes=classes,
        width=width,
    )


def _properties(props: str) -> dict[str, str]:
    """``key: value`` lines of a ROI's properties (ImageJ sorts them and may add its own)."""
    pairs = (line.split(":", 1) for line in props.splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def _label(name: str, properties: dict[str, str]) -> str:
    """The label written by :func:`write_rois` while the name still matches it, else the name."""
    if "measurer_label" in properties:
        label = unquote(properties["measurer_label"])
        match = _NAME.fullmatch(name)
        if match is not None and (match.group(1) or "") == label:
            return label
    return name
