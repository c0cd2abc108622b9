"""The work of the Similar images panel: its query, its worker functions and thumbnails.

The worker functions run on a thread of the pool (``run_task``) and open and close their own
:class:`~measurer.io.similarity_index.SimilarityIndex`, since an SQLite connection belongs to
one thread. They share a :class:`Job` with the panel: the panel reads its latest progress and
sets its stop flag. Thumbnails are numpy arrays here; the panel makes pixmaps of them on the
GUI thread. No Qt here.
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from measurer.core.annotations import Kind

if TYPE_CHECKING:
    from measurer.core.document import Document
    from measurer.io.similarity_index import IndexUpdate
    from measurer.io.similarity_search import SimilarImage

#: Results kept from one search (the threshold slider filters them).
MAX_RESULTS = 100
#: Smallest side, in pixels, of a rectangle that can be searched with.
MIN_QUERY_SIDE = 16
#: Search methods (measurer.io.similarity_search.METHODS) with what they find.
METHODS = {
    "auto": "appearance, re-ranked by local features (default)",
    "hash": "perceptual hashes: near-copies, fastest",
    "hist": "intensity distributions only",
    "ssim": "structure of small thumbnails",
    "orb": "local features only: crops, rotations, parts",
}
#: Side, in pixels, of the square a thumbnail is fitted into.
THUMBNAIL_SIZE = 112
#: Colour (RGB) of the matched region outlined on a thumbnail.
REGION_COLOUR = (255, 200, 0)
# A region that contains the image's corners but for this fraction of the thumbnail's side is
# not outlined: it would only frame every near-copy.
_WHOLE_IMAGE = 0.04


def make_thumbnail(
    path: str | os.PathLike[str], region: np.ndarray | None = None, *, size: int = THUMBNAIL_SIZE
) -> np.ndarray | None:
    """An RGB uint8 thumbnail of an image file, fitted in ``size`` × ``size``.

    ``region`` (four (row, col) corners in the file's full-size pixel coordinates, as
    ``SimilarImage.region``) is outlined unless it contains the whole image (a near-copy, or
    an image that is a part of the query). None when the file
    cannot be read (any more). Runs on a worker: numpy and OpenCV only.
    """
    import cv2

    from measurer.io.reduced import read_reduced

    try:
        image, factor = read_reduced(path, longest=size)
        thumbnail = _fit(_display(image), size)
    except Exception:  # changed or gone since it was indexed: a grey tile, not a failed search
        return None
    if region is not None:
        scale = np.array(thumbnail.shape[:2]) / (np.array(image.shape[:2]) * factor)
        corners = (np.asarray(region, dtype=float) + 0.5) * scale - 0.5
        if not _covers_image(corners, thumbnail.shape[:2]):
            xy = np.round(corners[:, ::-1] * 16).astype(np.int32)  # 4 fractional bits
            cv2.polylines(thumbnail, [xy], True, REGION_COLOUR, 2, cv2.LINE_AA, shift=4)
    return thumbnail


def _display(image: np.ndarray) -> np.ndarray:
    """uint8 grey or RGB for display: other dtypes stretched between 0.5 and 99.5 percentiles."""
    if image.ndim == 3:
        image = image[:, :, :3] if image.shape[2] >= 3 else image[:, :, 0]
    if image.ndim not in (2, 3):
        raise ValueError(f"cannot show an array of shape {image.shape}")
    if image.dtype == np.uint8:
        return image
    values = np.nan_to_num(image.astype(np.float32))
    lo, hi = (float(v) for v in np.percentile(values, (0.5, 99.5)))
    scaled = (values - lo) * (255.0 / max(hi - lo, 1e-12))
    return np.clip(scaled, 0, 255).astype(np.uint8)


def _fit(image: np.ndarray, size: int) -> np.ndarray:
    """``image`` resized to fit in ``size`` × ``size``, as contiguous RGB."""
    import cv2

    rows, cols = image.shape[:2]
    scale = size / max(rows, cols)
    shape = (max(1, round(cols * scale)), max(1, round(rows * scale)))
    method = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(np.ascontiguousarray(image), shape, interpolation=method)
    if small.ndim == 2:
        small = cv2.cvtColor(small, cv2.COLOR_GRAY2RGB)
    return np.ascontiguousarray(small)


def _covers_image(corners: np.ndarray, shape: tuple[int, int]) -> bool:
    """True when the region (nearly) contains the whole image: nothing in it to point at."""
    import cv2

    rows, cols = shape
    outline = [(-0.5, -0.5), (cols - 0.5, -0.5), (cols - 0.5, rows - 0.5), (-0.5, rows - 0.5)]
    polygon = np.ascontiguousarray(corners[:, ::-1], dtype=np.float32)  # (x, y)
    tolerance = _WHOLE_IMAGE * max(rows, cols)
    return all(cv2.pointPolygonTest(polygon, xy, True) >= -tolerance for xy in outline)


@dataclass(frozen=True)
class IndexOutcome:
    """An index update and how many images the index then holds."""

    update: IndexUpdate
    indexed: int


@dataclass(frozen=True)
class SearchOutcome:
    """The index update before a search, its results (None if cancelled) and thumbnails."""

    index: IndexOutcome
    results: list[SimilarImage] | None
    thumbnails: list[np.ndarray | None]


class Job:
    """What one worker shares with the panel: its latest progress and a stop flag."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.latest: tuple[float | None, str] = (None, "Starting…")  # None: no fraction yet


class CurrentJob:
    """Holds the running job so that quitting (or the panel going away) can stop it."""

    def __init__(self) -> None:
        self.job: Job | None = None

    def stop(self) -> None:
        if self.job is not None:
            self.job.stop.set()


def _update_index(index: Any, job: Job, stopped: Any) -> IndexOutcome:
    def report(done: int, total: int, path: str) -> None:
        job.latest = (done / max(total, 1), f"Indexing {done} / {total}: {path}")

    job.latest = (None, "Looking for new and changed images…")
    update = index.update(progress=report, cancel=stopped)
    return IndexOutcome(update, len(index))


def index_folder(root: Path, job: Job, *, progress: Any, cancelled: Any) -> IndexOutcome:
    """Worker: bring the folder's index up to date (stops, keeping what it read, on Cancel)."""
    from measurer.io.similarity_index import SimilarityIndex

    with SimilarityIndex(root) as index:
        return _update_index(index, job, lambda: job.stop.is_set() or cancelled())


def find_similar(
    root: Path, query: Any, method: str, job: Job, *, progress: Any, cancelled: Any
) -> SearchOutcome:
    """Worker: update the index, search it with ``query``, make the results' thumbnails."""
    from measurer.io.similarity_index import SimilarityIndex
    from measurer.io.similarity_search import search

    def stopped() -> bool:
        return job.stop.is_set() or cancelled()

    with SimilarityIndex(root) as index:
        indexed = _update_index(index, job, stopped)
        if indexed.update.cancelled:
            return SearchOutcome(indexed, None, [])
        job.latest = (None, "Comparing…")
        results = search(index, query, method=method, top=MAX_RESULTS, min_score=0.0)
    thumbnails = []
    for number, result in enumerate(results):
        if stopped():
            return SearchOutcome(indexed, None, [])
        job.latest = (number / len(results), f"Thumbnails {number + 1} / {len(results)}")
        thumbnails.append(make_thumbnail(result.path, result.region))
    return SearchOutcome(indexed, results, thumbnails)


def crop_bounds(vertices: np.ndarray, shape: tuple[int, ...]) -> tuple[slice, slice]:
    """Rows and columns of the pixels whose centres lie inside a rectangle (corners on edges)."""
    lo, hi = np.min(vertices, axis=0), np.max(vertices, axis=0)
    rows = slice(max(0, math.ceil(lo[0])), min(shape[0], math.floor(hi[0]) + 1))
    cols = slice(max(0, math.ceil(lo[1])), min(shape[1], math.floor(hi[1]) + 1))
    return rows, cols


def selected_rectangle(document: Document | None, selected: list[int]) -> Any:
    """The one selected rectangle annotation, or None."""
    if document is None:
        return None
    shapes = [document.annotations.get(i) for i in selected]
    rectangles = [a for a in shapes if a is not None and a.kind is Kind.RECTANGLE]
    return rectangles[0] if len(rectangles) == 1 else None


def make_query(document: Document, selected: list[int]) -> tuple[Any, str]:
    """What to search with, and a description: the selected rectangle's pixels, or the image.

    The image file itself is the query when it shows its first page, so that the search
    leaves it out of its own results. Raises ValueError for a rectangle too small to search.
    """
    rectangle = selected_rectangle(document, selected)
    if rectangle is not None:
        rows, cols = crop_bounds(rectangle.vertices, document.image.shape)
        height, width = rows.stop - rows.start, cols.stop - cols.start
        if min(height, width) < MIN_QUERY_SIDE:
            raise ValueError(
                f"The selected rectangle covers {max(width, 0)} × {max(height, 0)} pixels of the "
                f"image: search with at least {MIN_QUERY_SIDE} × {MIN_QUERY_SIDE}."
            )
        crop = np.array(document.image[rows, cols])  # a copy: the worker keeps it
        return crop, f"the selected rectangle ({width} × {height} px)"
    if document.path is not None and document.page == 0 and document.path.is_file():
        return document.path, f"the whole image {document.path.name}"
    return np.array(document.image), "the whole image"
