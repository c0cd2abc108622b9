"""Turning images into binary masks: binary, thresholded, label and colour-coded masks, ROIs.

A *mask* here is a 2D boolean array: ``True`` is foreground. The functions accept what
segmentation tools write: a binary image (0 and one other value, e.g. 0/1 or 0/255), a grey
image with a threshold, a label image (one integer per class), or a colour-coded multi-class
mask (one colour per class, RGB or RGBA; an RGB image whose three channels are equal is read as
grey). Inputs are never modified.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

#: Integer dtypes OpenCV checks for binariness quickly.
_CV_INT_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.int16))


class MaskError(ValueError):
    """A mask that cannot be analysed as asked: not binary, empty, wrong shape, too few blobs."""


def _as_grey_or_colour(image: np.ndarray) -> np.ndarray:
    """2D array for grey input, (M, N, 3) for colour; alpha dropped, equal-channel RGB -> grey."""
    image = np.asarray(image)
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] in (3, 4):
        rgb = image[..., :3]
        if np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 0], rgb[..., 2]):
            return rgb[..., 0]
        return rgb
    raise MaskError(
        f"a mask must be a 2D image or an RGB(A) image, got an array of shape {image.shape}"
    )


def is_binary(image: np.ndarray) -> bool:
    """True when a 2D image holds zero and at most one other, positive value (or is boolean).

    Parameters
    ----------
    image : ndarray of shape (M, N)
        Any numeric dtype. Never modified.
    """
    image = np.asarray(image)
    if image.dtype == bool or image.size == 0:
        return True
    if image.dtype in _CV_INT_DTYPES:
        # OpenCV answers in one pass without temporary copies of a large mask.
        low, high, _, _ = cv2.minMaxLoc(image)
        if low < 0:
            return False
        return high <= 1 or cv2.countNonZero(cv2.inRange(image, 1, high - 1)) == 0
    high = image.max()
    if not np.isfinite(high) or image.min() < 0:
        return False
    return int(np.count_nonzero(image)) == int(np.count_nonzero(image == high))


def _describe_values(image: np.ndarray) -> str:
    """A short description of the values in a non-binary image, for error messages."""
    sample = image if image.size <= 1_000_000 else image.ravel()[:: image.size // 1_000_000]
    values = np.unique(sample)
    shown = ", ".join(f"{v:g}" for v in values[:6]) + (", ..." if len(values) > 6 else "")
    return f"{len(values)}{'+' if sample is not image else ''} distinct values ({shown})"


def as_binary(
    image: np.ndarray,
    *,
    threshold: float | None = None,
    value: float | Sequence[float] | None = None,
) -> np.ndarray:
    """Foreground of a binary, thresholded, label or colour-coded mask.

    Parameters
    ----------
    image : ndarray of shape (M, N), (M, N, 3) or (M, N, 4)
        The mask image. Never modified. Alpha is ignored; RGB with equal channels is grey.
    threshold : float, optional
        Foreground is ``image > threshold`` (grey images only).
    value : float or sequence of 3 floats, optional
        Foreground is the pixels equal to ``value``: a class of a label image, or an
        ``(R, G, B)`` colour of a colour-coded mask.

    Returns
    -------
    ndarray of bool, shape (M, N)
        A new array.

    Raises
    ------
    MaskError
        Without ``threshold`` or ``value``, when the image is not binary (a grey image, a label
        image with several classes, a colour image with several colours): the message says what
        was found and what to pass instead.
    """
    if threshold is not None and value is not None:
        raise MaskError("give either a threshold or a class value, not both")
    data = _as_grey_or_colour(image)
    colour = data.ndim == 3
    if value is not None:
        wanted = np.atleast_1d(np.asarray(value, dtype=float))
        if colour:
            if wanted.size != 3:
                raise MaskError(
                    f"a colour-coded mask needs an (R, G, B) class colour, got {value!r}"
                )
            return np.all(data == wanted.astype(data.dtype), axis=2)
        if wanted.size == 3 and np.all(wanted == wanted[0]):
            wanted = wanted[:1]  # a grey colour given as R,G,B
        if wanted.size != 1:
            raise MaskError(f"a grey or label mask needs a single class value, got {value!r}")
        return data == wanted[0]
    if threshold is not None:
        if colour:
            raise MaskError("a threshold applies to grey images; choose a class colour instead")
        if not np.isfinite(threshold):
            raise MaskError(f"the threshold must be a finite number, got {threshold!r}")
        return data > threshold
    if colour:
        colours = mask_classes(data)
        if len(colours) > 1:
            raise MaskError(
                f"this colour image has {len(colours)} colours besides black, so it is not a "
                "binary mask: choose one class colour (e.g. "
                + ", ".join(",".join(str(c) for c in col) for col in colours[:3])
                + ")"
            )
        return np.any(data != 0, axis=2)
    if not is_binary(data):
        raise MaskError(
            f"this image has {_describe_values(data)}, so it is not a binary mask: give a "
            "threshold for a grey image or a class value for a label image"
        )
    return data != 0


def mask_classes(image: np.ndarray) -> list:
    """The classes of a label or colour-coded mask: every non-zero value or non-black colour.

    Parameters
    ----------
    image : ndarray of shape (M, N), (M, N, 3) or (M, N, 4)
        Never modified.

    Returns
    -------
    list
        Sorted values (``int`` or ``float``) for grey/label images, ``(R, G, B)`` tuples of
        ints for colour images.
    """
    data = _as_grey_or_colour(image)
    if data.ndim == 2:
        values = np.unique(data)
        return [v.item() for v in values if v != 0]
    flat = data.reshape(-1, 3)
    if flat.dtype.itemsize == 1:
        packed = (flat[:, 0].astype(np.uint32) << 16) | (flat[:, 1].astype(np.uint32) << 8)
        packed |= flat[:, 2]
        codes = np.unique(packed)
        colours = np.stack([(codes >> 16) & 255, (codes >> 8) & 255, codes & 255], axis=1)
    else:
        colours = np.unique(flat, axis=0)
    return [tuple(c.item() for c in col) for col in colours if np.any(col != 0)]


def restrict_to_roi(
    mask: np.ndarray,
    *,
    rect: Sequence[int] | None = None,
    polygon: np.ndarray | Sequence[Sequence[float]] | None = None,
) -> np.ndarray:
    """Copy of a mask with everything outside a region of interest set to background.

    Coordinates stay those of the full image.

    Parameters
    ----------
    mask : ndarray of bool, shape (M, N)
        Never modified.
    rect : (row0, col0, rows, cols), optional
        Rectangle of pixels, first row/column and counts; clipped to the image.
    polygon : array-like of shape (K, 2), optional
        Vertices as ``(row, col)``, pixel centres at integers; a pixel is inside when its
        centre is inside the polygon (or on its boundary).

    Returns
    -------
    ndarray of bool, shape (M, N)

    Raises
    ------
    MaskError
        For an empty or degenerate ROI, or when both or neither of ``rect`` and ``polygon``
        are given.
    """
    mask = np.asarray(mask)
    if (rect is None) == (polygon is None):
        raise MaskError("give exactly one of a rectangle or a polygon ROI")
    keep = np.zeros(mask.shape[:2], dtype=bool)
    if rect is not None:
        if len(rect) != 4:
            raise MaskError(f"a rectangle ROI is (row, col, rows, cols), got {rect!r}")
        row0, col0, rows, cols = (int(v) for v in rect)
        if rows <= 0 or cols <= 0:
            raise MaskError(f"the ROI rectangle has no area: {rows} x {cols} px")
        r0, c0 = max(row0, 0), max(col0, 0)
        r1, c1 = min(row0 + rows, mask.shape[0]), min(col0 + cols, mask.shape[1])
        if r1 <= r0 or c1 <= c0:
            raise MaskError("the ROI rectangle lies outside the image")
        keep[r0:r1, c0:c1] = True
    else:
        from skimage.draw import polygon2mask

        vertices = np.asarray(polygon, dtype=float)
        if vertices.ndim != 2 or vertices.shape[1] != 2 or len(vertices) < 3:
            raise MaskError("a polygon ROI needs at least 3 (row, col) vertices")
        keep = polygon2mask(mask.shape[:2], vertices)
        if not keep.any():
            raise MaskError("the ROI polygon contains no pixel centre of the image")
    return np.logical_and(mask != 0, keep)
