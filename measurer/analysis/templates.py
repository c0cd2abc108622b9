"""Template matching: every occurrence of a small image inside a larger one.

Normalised cross-correlation (OpenCV ``TM_CCOEFF_NORMED``) over optional scales and rotations,
with an optional mask (transparent template pixels), non-maximum suppression so that each
occurrence is reported once, and sub-pixel refinement of each peak. Candidate peaks are re-scored
exactly in double precision, so flat image windows (where OpenCV's float arithmetic can produce
spurious scores) and masked windows giving NaN or infinity never reach the results.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from measurer.analysis.peaks import local_maxima, subpixel_offsets, suppress_overlaps

#: A window whose standard deviation is below this (in units of the prepared image: grey levels
#: for 8-bit, the image's own standard deviation otherwise) is flat: its correlation is undefined.
_FLAT_STD = 1e-5
_GREY_WEIGHTS = np.array([0.299, 0.587, 0.114])


class TemplateError(ValueError):
    """The template cannot be matched: flat, larger than the image, or empty after masking."""


@dataclass(frozen=True)
class TemplateMatch:
    """One occurrence: the matched window's top-left pixel (sub-pixel), its size and score."""

    row: float
    col: float
    height: int
    width: int
    score: float
    scale: float
    angle: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TemplateMatchResult:
    """Every occurrence above the threshold, best first."""

    matches: tuple[TemplateMatch, ...]
    threshold: float

    @property
    def count(self) -> int:
        return len(self.matches)

    def to_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "count": self.count,
            "matches": [m.to_dict() for m in self.matches],
        }


@dataclass(frozen=True)
class _Variant:
    """The template after scaling and rotation, ready for ``cv2.matchTemplate``."""

    template: np.ndarray
    mask: np.ndarray | None
    scale: float
    angle: float


def match_template(
    image: np.ndarray,
    template: np.ndarray,
    *,
    threshold: float = 0.8,
    scales: tuple[float, ...] = (1.0,),
    angles: tuple[float, ...] = (0.0,),
    mask: np.ndarray | None = None,
    color: bool = True,
    max_overlap: float = 0.3,
    pyramid: bool = False,
) -> TemplateMatchResult:
    """Find every occurrence of ``template`` in ``image`` by normalised cross-correlation.

    Parameters
    ----------
    image : ndarray of shape (M, N) or (M, N, C)
        Any numeric dtype; C = 3 is RGB, a 2nd or 4th channel is alpha and is ignored.
        Never modified.
    template : ndarray of shape (m, n) or (m, n, C)
        A 2nd or 4th channel is alpha: pixels with alpha below half its maximum are ignored.
    threshold : float
        Minimum normalised correlation (-1 to 1) of a match.
    scales, angles : tuple of float
        Every combination is searched. A scale resizes the template; an angle (degrees,
        counter-clockwise on screen) rotates it about its centre, the corners it uncovers being
        masked out. Combinations whose template no longer fits in the image are skipped.
    mask : ndarray of shape (m, n), optional
        Nonzero template pixels take part in the correlation (combined with any alpha).
    color : bool
        Correlate colour channels together when both images are colour; otherwise grey levels.
    max_overlap : float
        Of two matches whose boxes overlap by more than this intersection-over-union, only
        the better one is kept.
    pyramid : bool
        Coarse-to-fine search: search halved images for candidates, then refine each at full
        resolution. Much faster for templates of 32 px and more; may miss occurrences whose
        detail is finer than the coarse level (the template is halved until about 16 px).

    Returns
    -------
    TemplateMatchResult
        Positions are the top-left pixel of the matched window (the scaled, rotated template's
        bounding box), pixel centres at integers.

    Raises
    ------
    TemplateError
        Flat template, template larger than the image at every scale and angle, empty mask.
    ValueError
        Bad shapes, non-finite pixel values, or bad options.
    """
    if not -1.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be between -1 and 1, got {threshold}")
    if not 0.0 <= max_overlap < 1.0:
        raise ValueError(f"max_overlap must be in [0, 1), got {max_overlap}")
    if not scales or any(not np.isfinite(s) or s <= 0 for s in scales):
        raise ValueError(f"scales must be positive numbers, got {scales}")
    if not angles or any(not np.isfinite(a) for a in angles):
        raise ValueError(f"angles must be finite numbers, got {angles}")
    img, templ, tmask = _prepare(image, template, mask, color)
    variants = [v for s in scales for a in angles if (v := _variant(templ, tmask, s, a, img))]
    if not variants:
        raise TemplateError(
            f"the template ({templ.shape[0]}×{templ.shape[1]} px) does not fit in the image "
            f"({img.shape[0]}×{img.shape[1]} px) at any requested scale and angle"
        )
    found = []
    for v in variants:
        search = _search_pyramid if pyramid else _search
        rows, cols, refined = search(img, v, threshold)
        scores = _exact_scores(img, v, rows, cols)
        keep = scores >= threshold
        height, width = v.template.shape[:2]
        found.extend(
            TemplateMatch(float(r), float(c), height, width, float(s), v.scale, v.angle)
            for r, c, s in zip(refined[keep, 0], refined[keep, 1], scores[keep], strict=True)
        )
    return TemplateMatchResult(tuple(suppress_overlaps(found, max_overlap)), float(threshold))


def best_match(
    image: np.ndarray, template: np.ndarray, *, mask: np.ndarray | None = None, color: bool = True
) -> TemplateMatch:
    """The single best position of ``template`` in ``image``, whatever its score.

    Same conventions and errors as :func:`match_template` at scale 1 and angle 0; the score is
    0 when every window of the image is flat.
    """
    img, templ, tmask = _prepare(image, template, mask, color)
    v = _variant(templ, tmask, 1.0, 0.0, img)
    if v is None:
        raise TemplateError(
            f"the template ({templ.shape[0]}×{templ.shape[1]} px) is larger than the image "
            f"({img.shape[0]}×{img.shape[1]} px)"
        )
    scores = _correlate(img, v)
    finite = np.where(np.isfinite(scores), scores, -np.inf).ravel()
    # Re-score the best few exactly: a spurious value on a flat window must not win.
    top = np.argpartition(finite, -min(16, finite.size))[-16:]
    rows, cols = np.unravel_index(top, scores.shape)
    exact = _exact_scores(img, v, rows, cols)
    best = int(np.argmax(exact))
    r, c = rows[best : best + 1], cols[best : best + 1]
    offset = subpixel_offsets(scores, r, c)[0]
    height, width = v.template.shape[:2]
    return TemplateMatch(
        float(r[0] + offset[0]),
        float(c[0] + offset[1]),
        height,
        width,
        float(exact[best]),
        1.0,
        0.0,
    )


def _prepare(
    image: np.ndarray, template: np.ndarray, mask: np.ndarray | None, color: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Both images as uint8 (fast path) or standardised float32 with equal channels; the mask."""
    image, _ = _split_alpha(np.asarray(image), "image")
    template, alpha = _split_alpha(np.asarray(template), "template")
    if mask is not None:
        mask = np.asarray(mask)
        if mask.shape != template.shape[:2]:
            raise ValueError(f"mask shape {mask.shape} differs from template {template.shape[:2]}")
        alpha = mask != 0 if alpha is None else alpha & (mask != 0)
    if alpha is not None and not alpha.any():
        raise TemplateError("the template mask hides every pixel")
    if not color or image.ndim != template.ndim:
        image, template = _to_grey(image), _to_grey(template)
    if image.dtype == np.uint8 and template.dtype == np.uint8:
        img, templ = image, template
    else:
        img, templ = _standardise(image, "image"), _standardise(template, "template")
    values = templ if alpha is None else templ[alpha]
    if np.ptp(values) <= 1e-6 * np.abs(values).max():
        raise TemplateError(
            "the template is flat (all its pixels are equal): normalised correlation is undefined"
        )
    tmask = None if alpha is None or alpha.all() else alpha.astype(templ.dtype)
    return img, templ, tmask


def _split_alpha(array: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    if array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (1, 3)):
        color = array[..., 0] if array.ndim == 3 and array.shape[2] == 1 else array
        alpha = None
    elif array.ndim == 3 and array.shape[2] in (2, 4):
        color, alpha = array[..., :-1], array[..., -1]
        color = color[..., 0] if color.shape[2] == 1 else color
        alpha = (alpha > 0) & (alpha.astype(np.float64) >= 0.5 * float(alpha.max()))
    else:
        raise ValueError(
            f"{name} must be (rows, cols) or (rows, cols, 1-4 channels), got {array.shape}"
        )
    if min(color.shape[:2]) < 2:
        raise ValueError(f"{name} must be at least 2×2 pixels, got {color.shape[:2]}")
    if color.dtype == bool:
        color = color.astype(np.uint8)
    if not np.issubdtype(color.dtype, np.number) or np.iscomplexobj(color):
        raise ValueError(f"{name} must hold real numbers, got {color.dtype}")
    return color, alpha


def _to_grey(array: np.ndarray) -> np.ndarray:
    if array.ndim == 2:
        return array
    if array.dtype == np.uint8:
        return cv2.cvtColor(np.ascontiguousarray(array), cv2.COLOR_RGB2GRAY)
    return array.astype(np.float64) @ _GREY_WEIGHTS


def _standardise(array: np.ndarray, name: str) -> np.ndarray:
    """Zero mean, unit standard deviation, float32: keeps OpenCV's float sums accurate."""
    values = array.astype(np.float64)
    if not np.isfinite(values).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    std = values.std()
    return ((values - values.mean()) / (std if std > 0 else 1.0)).astype(np.float32)


def _variant(
    templ: np.ndarray, mask: np.ndarray | None, scale: float, angle: float, img: np.ndarray
) -> _Variant | None:
    """The template scaled then rotated, or None when it does not fit in the image."""
    height, width = templ.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if min(size) < 2:
        raise ValueError(f"scale {scale} shrinks the {height}×{width} template below 2×2 px")
    if size != (width, height):
        method = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        templ = cv2.resize(templ, size, interpolation=method)
        if mask is not None:
            mask = (cv2.resize(mask, size, interpolation=cv2.INTER_LINEAR) >= 0.5).astype(
                mask.dtype
            )
    angle = float(angle) % 360.0
    if angle % 90.0 == 0.0:
        turns = int(angle // 90)
        templ = np.ascontiguousarray(np.rot90(templ, turns))
        mask = None if mask is None else np.ascontiguousarray(np.rot90(mask, turns))
    else:
        templ, mask = _rotate(templ, mask, angle)
    if templ.shape[0] > img.shape[0] or templ.shape[1] > img.shape[1]:
        return None
    values = templ if mask is None else templ[mask > 0]
    if values.size == 0 or np.ptp(values) <= 1e-6 * np.abs(values).max():
        raise TemplateError(f"the template is flat at scale {scale} and angle {angle}")
    return _Variant(templ, mask, float(scale), angle)


def _rotate(
    templ: np.ndarray, mask: np.ndarray | None, angle: float
) -> tuple[np.ndarray, np.ndarray]:
    """Rotate into the bounding box of the rotated template; uncovered corners masked out."""
    height, width = templ.shape[:2]
    rot = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), angle, 1.0)
    cos, sin = abs(rot[0, 0]), abs(rot[0, 1])
    out_w = int(np.ceil(width * cos + height * sin - 1e-9))
    out_h = int(np.ceil(width * sin + height * cos - 1e-9))
    rot[0, 2] += (out_w - width) / 2
    rot[1, 2] += (out_h - height) / 2
    flags = cv2.INTER_LINEAR
    rotated = cv2.warpAffine(templ, rot, (out_w, out_h), flags=flags)
    inside = np.ones((height, width), np.float32) if mask is None else mask.astype(np.float32)
    inside = cv2.warpAffine(inside, rot, (out_w, out_h), flags=flags) >= 0.999
    return rotated, inside.astype(templ.dtype)


def _correlate(img: np.ndarray, v: _Variant) -> np.ndarray:
    return cv2.matchTemplate(img, v.template, cv2.TM_CCOEFF_NORMED, mask=v.mask)


def _search(
    img: np.ndarray, v: _Variant, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local maxima of the full correlation map: integer rows, cols and refined (row, col)."""
    scores = _correlate(img, v)
    rows, cols = local_maxima(scores, threshold)
    return rows, cols, np.column_stack([rows, cols]) + subpixel_offsets(scores, rows, cols)


def _search_pyramid(
    img: np.ndarray, v: _Variant, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidates on a halved pyramid level, each refined in a small full-resolution window."""
    levels = 0
    while min(v.template.shape[:2]) >> (levels + 1) >= 16 and levels < 4:
        levels += 1
    if levels == 0:
        return _search(img, v, threshold)
    small_img, small_templ = img, v.template
    small_mask = None if v.mask is None else v.mask.astype(np.float32)
    for _ in range(levels):
        small_img, small_templ = cv2.pyrDown(small_img), cv2.pyrDown(small_templ)
        if small_mask is not None:
            small_mask = cv2.pyrDown(small_mask)
    if small_mask is not None:
        small_mask = (small_mask >= 0.99).astype(small_templ.dtype)
    coarse = _Variant(small_templ, small_mask, v.scale, v.angle)
    # Misaligned by up to half a coarse pixel and blurred, true matches score lower up there.
    coarse_rows, coarse_cols = local_maxima(_correlate(small_img, coarse), threshold - 0.25)
    factor, pad = 1 << levels, (1 << levels) + 2
    height, width = v.template.shape[:2]
    limit = (img.shape[0] - height, img.shape[1] - width)
    found = []
    for cr, cc in zip(coarse_rows, coarse_cols, strict=True):
        r0, c0 = max(0, cr * factor - pad), max(0, cc * factor - pad)
        r1, c1 = min(limit[0], cr * factor + pad), min(limit[1], cc * factor + pad)
        local = _correlate(img[r0 : r1 + height, c0 : c1 + width], v)
        r, c = np.unravel_index(
            int(np.argmax(np.where(np.isfinite(local), local, -2))), local.shape
        )
        if local[r, c] >= threshold:
            offset = subpixel_offsets(local, np.array([r]), np.array([c]))[0]
            found.append((r + r0, c + c0, r + r0 + offset[0], c + c0 + offset[1]))
    table = np.array(found, dtype=np.float64).reshape(-1, 4)
    rows, cols = table[:, 0].astype(np.intp), table[:, 1].astype(np.intp)
    return rows, cols, table[:, 2:]


def _exact_scores(img: np.ndarray, v: _Variant, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Normalised correlation at each integer position in double precision; 0 on flat windows."""
    templ = v.template.astype(np.float64)
    weight = np.ones(templ.shape[:2]) if v.mask is None else v.mask.astype(np.float64)
    if templ.ndim == 3:
        weight = weight[..., None]
    weight = np.broadcast_to(weight, templ.shape)
    count = weight.sum(axis=(0, 1))
    t_dev = (templ - (templ * weight).sum(axis=(0, 1)) / count) * weight
    t_norm = np.sqrt((t_dev**2).sum())
    windows = sliding_window_view(img, templ.shape[:2], axis=(0, 1))
    scores = np.zeros(rows.size)
    for start in range(0, rows.size, 256):
        r, c = rows[start : start + 256], cols[start : start + 256]
        win = windows[r, c].astype(np.float64)
        if templ.ndim == 3:  # (N, channels, h, w) -> (N, h, w, channels)
            win = np.moveaxis(win, 1, -1)
        mean = (win * weight).sum(axis=(1, 2), keepdims=True) / count
        w_dev = (win - mean) * weight
        w_sq = (w_dev**2).sum(axis=tuple(range(1, win.ndim)))
        flat = w_sq <= (_FLAT_STD**2) * weight.sum()
        num = (w_dev * t_dev).sum(axis=tuple(range(1, win.ndim)))
        with np.errstate(divide="ignore", invalid="ignore"):
            scores[start : start + r.size] = np.where(flat, 0.0, num / (np.sqrt(w_sq) * t_norm))
    return np.clip(scores, -1.0, 1.0)
