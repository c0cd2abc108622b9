"""Macular hole and foveal pit measurements on a retina mask from an OCT B-scan.

The mask's foreground is the retina. Everything is measured in physical units (rows scaled by
the pixel height, columns by the pixel width, before any distance or angle: OCT pixels are far
from square) and in a frame aligned to the base of the retina, so that a tilted scan gives the
same numbers.

Definitions (the user documentation copies these; see ``measurer/resources/help/retina.md``)
-------------------------------------------------------------------------------------------
Base line
    The bottom boundary of the retina (the lowest pixel edge in each column) is fitted with a
    robust parabola (a repeated-median line, then least-squares parabolas refitted to the
    columns within half a pixel height or 3 robust standard deviations, so that columns under
    an overhanging hole edge do not pull it), over the middle half of the retina's width
    centred on the hole or pit. The *base line* is its tangent at the hole axis (midway
    between the two parts) or at the pit.
    ``u`` runs along the base line, ``v`` is the height above it. The mask is resampled into
    this frame (nearest neighbour, half a pixel in each direction), so widths are measured to
    a quarter pixel.
Macular hole (the retina is split into two parts, left and right of the hole)
    - *Minimum linear diameter* (``mld``): the narrowest gap between the facing hole edges,
      measured parallel to the base line, between pixel edges, over all heights where both
      edges exist. ``mld_euclidean``: the true shortest distance between the two parts
      (between pixel edges, any direction).
    - *Base diameter*: the same gap at the lowest height where both edges exist, at least
      one pixel above the base line (``pixel_height * cos(tilt) + pixel_width * |sin(tilt)|``,
      clear of the staircase that a tilted bottom boundary makes).
    - *Top* of each edge: among the points of the top surface of that part within one base
      diameter of the hole (measured from the base end of the edge), the one nearest the hole
      of those less than one pixel below the highest (a flat top drawn in tilted pixels has
      many near-highest points).
    - *Height* of each edge (``height_left``, ``height_right``): height of its top above the
      base line (less than a pixel below the highest point, and the distance the landmarks
      give); ``height`` is the larger.
    - *Arm length* of each edge: the straight line from the base end of the edge (where the
      base diameter is measured, projected onto the base line) to its top.
    - *Macular hole index* ``mhi = height / base_diameter``; *tractional hole index*
      ``thi = height / mld``; *hole form factor* ``hff = (arm_left + arm_right) /
      base_diameter``; *diameter hole index* ``dhi = mld / base_diameter``.
    - *Size class* by the minimum linear diameter: ``small`` (<= 250 µm), ``medium``
      (> 250 and <= 400 µm), ``large`` (> 400 µm); only for calibrated masks.
Foveal pit (the retina is one part)
    - The *top surface* is the highest retina pixel edge in each column of the frame; the
      *bottom surface* the lowest.
    - *Pit bottom*: the lowest point of the top surface within the central region (the middle
      half of the retina's width; ties: the middle of the lowest run nearest its centre); not
      the bottommost pixel of the mask, which is on the base.
    - *Rims*: the highest point of the top surface on each side of the pit bottom, within the
      central region (ties: the one nearest the pit).
    - *Pit depth*: perpendicular distance from the pit bottom to the line through the rims.
      *Pit diameter*: the rim-to-rim distance.
    - *Maximum slope* (degrees): the steepest least-squares slope of the top surface between
      the rims, each fitted over a window of a fifth of the pit diameter.
    - *Central thickness*: top minus bottom surface, perpendicular to the base line, at the
      pit bottom.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy.stats import siegelslopes

from measurer.analysis.blobs import blob_stats, label_blobs
from measurer.analysis.gaps import closest_pair
from measurer.analysis.masks import MaskError, as_binary

_NAN = float("nan")
_MAX_FRAME_PIXELS = 200_000_000
_FIT_POINTS = 1000  # bottom-boundary columns used for the base line, at most
_SIZE_CLASSES = ((250.0, "small"), (400.0, "medium"), (math.inf, "large"))


@dataclass(frozen=True)
class RetinaResult:
    """Macular hole or foveal pit measurements (see the module docstring for definitions).

    Lengths are in the unit of ``pixel_width``/``pixel_height`` (pixels by default); values
    that do not apply to ``kind`` are NaN. ``landmarks`` maps names to ``(row, col)`` image
    coordinates in pixels. ``tilt_deg`` is the base line's angle to the image rows,
    positive when it rises to the right on screen.
    """

    kind: str
    tilt_deg: float
    mld: float = _NAN
    mld_euclidean: float = _NAN
    base_diameter: float = _NAN
    height_left: float = _NAN
    height_right: float = _NAN
    arm_left: float = _NAN
    arm_right: float = _NAN
    size_class: str | None = None
    pit_depth: float = _NAN
    pit_diameter: float = _NAN
    max_slope_deg: float = _NAN
    central_thickness: float = _NAN
    landmarks: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def height(self) -> float:
        return max(self.height_left, self.height_right) if self.kind == "hole" else _NAN

    @property
    def mhi(self) -> float:
        return _ratio(self.height, self.base_diameter)

    @property
    def thi(self) -> float:
        return _ratio(self.height, self.mld)

    @property
    def hff(self) -> float:
        return _ratio(self.arm_left + self.arm_right, self.base_diameter)

    @property
    def dhi(self) -> float:
        return _ratio(self.mld, self.base_diameter)

    def to_dict(self) -> dict:
        """JSON-ready form (NaN for values that do not apply)."""
        names = ("kind", "tilt_deg", "mld", "mld_euclidean", "base_diameter", "height")
        names += ("height_left", "height_right", "arm_left", "arm_right", "mhi", "thi", "hff")
        names += ("dhi", "size_class", "pit_depth", "pit_diameter", "max_slope_deg")
        out = {name: getattr(self, name) for name in (*names, "central_thickness")}
        out["landmarks"] = {k: [float(v[0]), float(v[1])] for k, v in self.landmarks.items()}
        return out


def _ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, NaN when the denominator is 0 or NaN."""
    return numerator / denominator if denominator > 0 else _NAN


def size_class(mld_um: float) -> str:
    """IVTS size class of a macular hole from its minimum linear diameter in µm."""
    return next(name for limit, name in _SIZE_CLASSES if mld_um <= limit)


@dataclass(frozen=True)
class _Frame:
    """Base-aligned frame and the mask resampled into it (``u`` right, ``v`` up)."""

    origin: tuple[float, float]  # (X, Y) physical, on the base line
    theta: float  # angle of the base line, radians, Y down
    scale: tuple[float, float]  # (pixel_height, pixel_width)
    u0: float  # u of the left edge of frame column 0
    v0: float  # v of the top edge of frame row 0
    step: tuple[float, float]  # (sv, su): frame pixel height and width
    image: np.ndarray  # resampled labels

    def u(self, col: np.ndarray | float) -> np.ndarray | float:
        """u of a frame column's left edge (fractional columns allowed)."""
        return self.u0 + np.asarray(col) * self.step[1]

    def v(self, row: np.ndarray | float) -> np.ndarray | float:
        """v of a frame row's top edge (fractional rows allowed)."""
        return self.v0 - np.asarray(row) * self.step[0]

    def to_image(self, u: float, v: float) -> tuple[float, float]:
        """``(row, col)`` image pixel coordinates of frame point ``(u, v)``."""
        c, s = math.cos(self.theta), math.sin(self.theta)
        x = self.origin[0] + u * c + v * s
        y = self.origin[1] + u * s - v * c
        return float(y / self.scale[0]), float(x / self.scale[1])


def _fit_base(
    labels: np.ndarray, centre_col: float, scale: tuple[float, float]
) -> tuple[tuple[float, float], float]:
    """Origin (X, Y) and angle of the base line: the tangent at ``centre_col`` to a robust
    parabola through the bottom boundary (see the module docstring)."""
    ph, pw = scale
    tissue = labels != 0
    cols = np.flatnonzero(tissue.any(axis=0))
    span = cols[-1] - cols[0] + 1
    cols = cols[np.abs(cols - centre_col) <= span / 4]
    if len(cols) < 5:
        raise MaskError("the retina is too narrow to fit its base line")
    cols = cols[:: -(-len(cols) // _FIT_POINTS)]
    bottom = tissue.shape[0] - 1 - np.argmax(tissue[::-1, cols], axis=0)
    x = (cols - centre_col) * pw
    y = (bottom + 0.5) * ph
    # A repeated-median line ignores up to half the columns (those under an overhanging hole
    # edge); trimmed least-squares parabolas then follow a curved base.
    slope, intercept = siegelslopes(y, x)
    coef = np.array([0.0, slope, intercept])
    for _ in range(4):
        residual = y - np.polyval(coef, x)
        spread = 1.4826 * np.median(np.abs(residual - np.median(residual)))
        inliers = np.abs(residual) <= max(0.5 * ph, 3 * spread)
        if inliers.sum() < 5:
            break
        coef = np.polyfit(x[inliers], y[inliers], 2)
    return (centre_col * pw, float(coef[2])), math.atan(float(coef[1]))


def _resample(
    labels: np.ndarray, origin: tuple[float, float], theta: float, scale: tuple[float, float]
) -> _Frame:
    """Resample a label image (uint8) into the base frame, nearest neighbour."""
    ph, pw = scale
    su, sv = pw / 2, ph / 2
    c, s = math.cos(theta), math.sin(theta)
    rows, cols = labels.shape
    corners_x = (np.array([0, cols, 0, cols]) - 0.5) * pw - origin[0]
    corners_y = (np.array([0, 0, rows, rows]) - 0.5) * ph - origin[1]
    u = corners_x * c + corners_y * s
    v = corners_x * s - corners_y * c
    offset = (-0.5 * pw - origin[0]) % su  # frame columns line up with pixel edges at theta 0
    u0 = offset + math.floor((u.min() - offset) / su) * su
    v0 = math.ceil(v.max() / sv) * sv
    width, height = math.ceil((u.max() - u0) / su), math.ceil((v0 - v.min()) / sv)
    if width * height > _MAX_FRAME_PIXELS:
        raise MaskError("the mask is too large to resample into the base frame")
    uc, vc = u0 + 0.5 * su, v0 - 0.5 * sv  # centre of frame pixel (0, 0)
    m = np.array(
        [
            [c * su / pw, -s * sv / pw, (origin[0] + uc * c + vc * s) / pw],
            [s * su / ph, c * sv / ph, (origin[1] + uc * s - vc * c) / ph],
        ]
    )
    image = cv2.warpAffine(
        labels, m, (width, height), flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP, borderValue=0
    )
    return _Frame(origin, theta, (ph, pw), u0, v0, (sv, su), image)


def _last_true(flags: np.ndarray, axis: int) -> np.ndarray:
    """Index of the last True along ``axis`` (-1 where none)."""
    n = flags.shape[axis]
    last = n - 1 - np.argmax(np.flip(flags, axis=axis), axis=axis)
    return np.where(flags.any(axis=axis), last, -1)


def _middle_run(indices: np.ndarray, target: float) -> float:
    """Centre of the run of consecutive ``indices`` nearest to ``target``."""
    breaks = np.flatnonzero(np.diff(indices) > 1) + 1
    runs = np.split(indices, breaks)
    centres = np.array([(r[0] + r[-1]) / 2 for r in runs])
    return float(centres[np.argmin(np.abs(centres - target))])


def _hole(frame: _Frame, parts: list[np.ndarray], scale: tuple[float, float], result: dict) -> None:
    """Macular hole measurements in the frame; fills ``result``."""
    image, su = frame.image, frame.step[1]
    left, right = image == 1, image == 2
    last_left = _last_true(left, 1)
    first_right = np.where(right.any(1), np.argmax(right, 1), image.shape[1])
    centre_v = frame.v(np.arange(image.shape[0]) + 0.5)
    # Rows within one pixel of the base line cross the staircase of a tilted bottom boundary.
    ph, pw = scale
    clear = ph * math.cos(frame.theta) + pw * abs(math.sin(frame.theta))
    present = (last_left >= 0) & (first_right < image.shape[1])
    shared = np.flatnonzero(present & (centre_v >= clear))
    shared = shared[first_right[shared] > last_left[shared]]
    if not len(shared):
        raise MaskError("the two parts of the retina are never side by side above the base line")
    gaps = (first_right[shared] - last_left[shared] - 1) * su
    tied = shared[gaps == gaps.min()]
    row = tied[(len(tied) - 1) // 2]
    base = shared[-1]  # lowest row above the base line with both edges
    result["mld"] = float(gaps.min())
    result["base_diameter"] = float((first_right[base] - last_left[base] - 1) * su)
    marks = result["landmarks"]
    edges = {"left": frame.u(last_left + 1), "right": frame.u(first_right)}
    for side, flags, sign in (("left", left, 1), ("right", right, -1)):
        base_u = float(edges[side][base])
        offset = frame.u(np.arange(image.shape[1]) + 0.5) - base_u
        cols = np.flatnonzero((sign * offset >= -result["base_diameter"]) & flags.any(0))
        heights = frame.v(np.argmax(flags[:, cols], axis=0))
        height = float(heights.max())
        # The top of the edge: nearest the hole among the points less than a pixel below the top.
        near = cols[heights > height - 0.5 * clear - frame.step[0]]
        apex_col = near.max() if sign > 0 else near.min()
        apex = (
            float(frame.u(apex_col + (sign > 0))),
            float(frame.v(np.argmax(flags[:, apex_col]))),
        )
        result[f"height_{side}"] = apex[1]
        result[f"arm_{side}"] = math.hypot(apex[0] - base_u, apex[1])
        marks[f"base_{side}"] = frame.to_image(base_u, 0.0)
        marks[f"mld_{side}"] = frame.to_image(float(edges[side][row]), float(centre_v[row]))
        marks[f"top_{side}"] = frame.to_image(*apex)
    pair = closest_pair(parts[0], parts[1], row_scale=scale[0], col_scale=scale[1])
    result["mld_euclidean"] = pair.distance
    marks["closest_left"], marks["closest_right"] = pair.point_a, pair.point_b


def _slopes(u: np.ndarray, t: np.ndarray, half: int) -> np.ndarray:
    """Least-squares slope of ``t`` over ``u`` in centred windows of ``2 * half + 1`` points."""
    n = 2 * half + 1
    if len(u) < n:
        return np.zeros(0)
    sums = [np.convolve(a, np.ones(n), "valid") for a in (u, t, u * t, u * u)]
    su, st, sut, suu = sums
    return (n * sut - su * st) / (n * suu - su * su)


def _pit(frame: _Frame, result: dict) -> float:
    """Foveal pit measurements in the frame; fills ``result``, returns the pit's frame u."""
    image, su = frame.image, frame.step[1]
    tissue = image != 0
    cols = np.flatnonzero(tissue.any(0))
    top_row = np.argmax(tissue[:, cols], axis=0)
    top = frame.v(top_row)
    bottom = frame.v(_last_true(tissue[:, cols], 0) + 1)
    centre = (cols[0] + cols[-1]) / 2
    central = np.abs(cols - centre) <= (cols[-1] - cols[0] + 1) / 4
    idx = np.flatnonzero(central)
    low = idx[top[idx] == top[idx].min()]
    pit = _middle_run(low, np.searchsorted(cols, centre))
    sides = (idx[idx < low.min()], idx[idx > low.max()])
    if not len(sides[0]) or not len(sides[1]):
        raise MaskError(
            "no foveal pit: the lowest point of the top surface in the central half of the "
            "retina has no higher ground on both sides"
        )
    rims = []
    for side, inner in zip(sides, (np.max, np.min), strict=True):
        rims.append(float(inner(side[top[side] == top[side].max()])))
    u_of = lambda i: float(frame.u(np.interp(i, np.arange(len(cols)), cols) + 0.5))  # noqa: E731
    point = lambda i: (u_of(i), float(top[round(i)]))  # noqa: E731
    bottom_pt, rim_l, rim_r = point(pit), point(rims[0]), point(rims[1])
    if min(rim_l[1], rim_r[1]) <= bottom_pt[1]:
        raise MaskError("no foveal pit: the top surface does not dip between its rims")
    chord = np.subtract(rim_r, rim_l)
    diameter = float(np.hypot(*chord))
    below = np.subtract(rim_l, bottom_pt)
    depth = float(chord[0] * below[1] - chord[1] * below[0]) / diameter
    between = slice(round(rims[0]), round(rims[1]) + 1)
    half = max(2, round(diameter / 10 / su))
    slopes = _slopes(frame.u(cols[between] + 0.5), top[between], half)
    j = round(pit)
    result.update(pit_depth=abs(depth), pit_diameter=diameter)
    result["max_slope_deg"] = math.degrees(math.atan(np.abs(slopes).max())) if len(slopes) else _NAN
    result["central_thickness"] = float(top[j] - bottom[j])
    marks = result["landmarks"]
    marks["pit_bottom"] = frame.to_image(*bottom_pt)
    marks["rim_left"], marks["rim_right"] = frame.to_image(*rim_l), frame.to_image(*rim_r)
    marks["pit_base"] = frame.to_image(bottom_pt[0], float(bottom[j]))
    return bottom_pt[0]


def measure_retina(
    mask: np.ndarray,
    *,
    kind: str = "auto",
    pixel_width: float = 1.0,
    pixel_height: float = 1.0,
    microns_per_unit: float | None = None,
    min_area: int | None = None,
) -> RetinaResult:
    """Measure a macular hole or a foveal pit on a retina mask.

    Parameters
    ----------
    mask : ndarray of shape (M, N)
        Binary mask of the retina (boolean or zero and one other value). Never modified.
    kind : {"auto", "hole", "pit"}
        ``"auto"``: a hole when the retina is in two parts of at least ``min_area``, a pit
        when it is in one.
    pixel_width, pixel_height : float
        Pixel size along x (columns) and y (rows); lengths come out in their unit.
    microns_per_unit : float, optional
        µm per unit of the pixel size, to give the hole's size class.
    min_area : int, optional
        Parts smaller than this (pixels) are ignored; default 1 % of the foreground.

    Returns
    -------
    RetinaResult

    Raises
    ------
    MaskError
        Empty or non-binary mask; one part where a hole needs two; a retina touching the top
        or bottom of the image; no pit found.
    """
    if kind not in ("auto", "hole", "pit"):
        raise ValueError(f"kind must be 'auto', 'hole' or 'pit', got {kind!r}")
    scale = (float(pixel_height), float(pixel_width))
    if not all(math.isfinite(v) and v > 0 for v in scale):
        raise ValueError(f"pixel sizes must be positive, got {pixel_width}, {pixel_height}")
    binary = as_binary(mask)
    blobs = blob_stats(binary)
    if not len(blobs):
        raise MaskError("the retina mask is empty")
    smallest = max(1, int(0.01 * blobs.area.sum())) if min_area is None else int(min_area)
    parts = np.flatnonzero(blobs.area >= smallest)
    parts = parts[np.argsort(-blobs.area[parts], kind="stable")]
    if kind == "auto":
        kind = "hole" if len(parts) >= 2 else "pit"
    if kind == "hole" and len(parts) < 2:
        raise MaskError(
            f"a macular hole splits the retina in two, but the mask has {len(parts)} part(s) "
            f"of at least {smallest} px"
        )
    chosen = sorted(parts[: 2 if kind == "hole" else 1], key=lambda i: blobs.centroid[i, 1])
    rows = blobs.bbox[chosen, 0]
    if np.any(rows == 0) or np.any(rows + blobs.bbox[chosen, 2] == binary.shape[0]):
        raise MaskError("the retina touches the top or bottom of the image: its height is cut off")
    labels = label_blobs(binary)
    selected = np.zeros(binary.shape, np.uint8)
    part_masks = []
    for value, index in enumerate(chosen, start=1):
        part = labels == index + 1
        selected[part] = value
        part_masks.append(part)
    if kind == "hole":
        centre = (blobs.rightmost[chosen[0], 1] + blobs.leftmost[chosen[1], 1]) / 2
    else:
        box = blobs.bbox[chosen[0]]
        centre = box[1] + (box[3] - 1) / 2
    result: dict = {"landmarks": {}}
    origin, theta = _fit_base(selected, centre, scale)
    frame = _resample(selected, origin, theta, scale)
    if kind == "hole":
        _hole(frame, part_masks, scale, result)
        if microns_per_unit is not None:
            result["size_class"] = size_class(result["mld"] * microns_per_unit)
    else:
        # Move the tangent point to the pit found, then measure again there.
        pit_u = _pit(frame, dict(landmarks={}))
        x_pit = origin[0] + pit_u * math.cos(theta)
        origin, theta = _fit_base(selected, x_pit / scale[1], scale)
        frame = _resample(selected, origin, theta, scale)
        _pit(frame, result)
    return RetinaResult(kind=kind, tilt_deg=-math.degrees(theta), **result)
