"""Local-feature matching: is one image (a part of) another, and where?

ORB keypoints (binary descriptors, rotation invariant, scale pyramid) are matched with
Lowe's ratio test, and a homography is fitted to the matches with RANSAC. The similarity is
the share of keypoints in the region the two images have in common that the homography
explains (see ``measurer/resources/help/similarity.md``). It finds crops, rotations and shifted
views that perceptual hashes miss.

Points are (row, col) with pixel centres at integer coordinates; the homography maps
homogeneous ``(row, col, 1)`` of image A to image B.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: Share of the keypoints in the common region, consistently matched, that counts as 100 %.
#: ORB finds 35-90 % of them again in a re-compressed, noisy, cropped or slightly rotated
#: copy of the same scene, and none in an unrelated image.
FULL_MATCH_SHARE = 0.35
#: Fewer RANSAC inliers than this is treated as no match at all.
MIN_INLIERS = 12
#: The common region counts as having at least this many keypoints, so that a dozen chance
#: inliers in a small region cannot make a large share.
MIN_COMMON = 50

_RESIZABLE = {np.dtype(t) for t in (np.uint8, np.uint16, np.int16, np.float32, np.float64)}
# (row, col) <-> (x, y): the same permutation both ways.
_SWAP = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])


@dataclass(frozen=True)
class Keypoints:
    """ORB keypoints of one image.

    Attributes
    ----------
    points : ndarray of float, shape (N, 2)
        (row, col) in the coordinates of the image given to :func:`detect_keypoints`.
    descriptors : ndarray of uint8, shape (N, 32)
        Binary ORB descriptors.
    shape : tuple of int
        Rows and columns of that image.
    """

    points: np.ndarray
    descriptors: np.ndarray
    shape: tuple[int, int]

    def to_dict(self) -> dict:
        """Points as lists, descriptors as hexadecimal strings."""
        return {
            "shape": list(self.shape),
            "points": self.points.tolist(),
            "descriptors": [bytes(d).hex() for d in self.descriptors],
        }


@dataclass(frozen=True)
class FeatureMatch:
    """How image A maps onto image B.

    Attributes
    ----------
    similarity : float
        In [0, 1]: ``share / FULL_MATCH_SHARE`` capped at 1, where ``share`` is the number
        of inliers over the number of keypoints (at least ``MIN_COMMON``) of the image with
        fewer keypoints inside the common region. 0 when fewer than ``MIN_INLIERS`` matches
        agree or the homography is degenerate.
    matches, inliers : int
        Matches that passed the ratio test; those consistent with the homography.
    homography : ndarray of shape (3, 3) or None
        Maps homogeneous ``(row, col, 1)`` of A to B.
    region_in_a, region_in_b : ndarray of shape (4, 2) or None
        Outline of B drawn in A, and of A drawn in B: the outer pixel edges of the other
        image mapped by the homography, as (row, col) corners in the order top-left,
        top-right, bottom-right, bottom-left of the mapped image.
    """

    similarity: float
    matches: int
    inliers: int
    homography: np.ndarray | None = None
    region_in_a: np.ndarray | None = None
    region_in_b: np.ndarray | None = None

    def to_dict(self) -> dict:
        """Plain-Python values; arrays as nested lists (None when there is no match)."""

        def listed(a: np.ndarray | None) -> list | None:
            return None if a is None else a.tolist()

        return {
            "similarity": self.similarity,
            "matches": self.matches,
            "inliers": self.inliers,
            "homography": listed(self.homography),
            "region_in_a": listed(self.region_in_a),
            "region_in_b": listed(self.region_in_b),
        }


def _working_grey(image: np.ndarray, working_size: tuple[int, int]) -> np.ndarray:
    """8-bit grey copy of ``image`` with its longest side brought into ``working_size``."""
    if not isinstance(image, np.ndarray) or not (
        np.issubdtype(image.dtype, np.number) or image.dtype == bool
    ):
        raise ValueError("image must be a numeric numpy array")
    if image.ndim == 3 and image.shape[2] in (1, 3, 4):
        image = image[:, :, 0] if image.shape[2] == 1 else image[:, :, :3]
    elif image.ndim != 2:
        raise ValueError(f"image must be grey or RGB(A), got an array of shape {image.shape}")
    if min(image.shape[:2]) < 2:
        raise ValueError(f"an image of shape {image.shape} is too small for keypoints")
    work = image if image.dtype in _RESIZABLE else image.astype(np.float32)
    longest = max(work.shape[:2])
    scale = min(max(1.0, working_size[0] / longest), working_size[1] / longest)
    if scale != 1.0:  # resized first: a large image is never copied as floats
        size = (max(2, round(work.shape[1] * scale)), max(2, round(work.shape[0] * scale)))
        method = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        work = cv2.resize(np.ascontiguousarray(work), size, interpolation=method)
    work = work.astype(np.float32)
    if work.ndim == 3:
        work = work @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    if not np.isfinite(work).all():
        raise ValueError("image contains NaN or infinite values")
    lo, hi = (float(v) for v in np.percentile(work, (0.5, 99.5)))
    span = hi - lo if hi > lo else 1.0
    return np.clip((work - lo) * (255.0 / span), 0, 255).astype(np.uint8)


def detect_keypoints(
    image: np.ndarray,
    *,
    max_keypoints: int = 1000,
    working_size: tuple[int, int] = (128, 1024),
) -> Keypoints:
    """ORB keypoints and descriptors of a grey or colour image.

    Parameters
    ----------
    image : ndarray of shape (M, N) or (M, N, 1|3|4)
        Any numeric dtype; its 0.5-99.5 percentile range is stretched to 8 bits first.
        Alpha is ignored. Never modified.
    max_keypoints : int
        Strongest keypoints kept.
    working_size : (int, int)
        Detection runs on a copy whose longest side is brought into this range (small
        images are enlarged, large ones reduced); points are mapped back to ``image``.

    Returns
    -------
    Keypoints

    Raises
    ------
    ValueError
        Not a finite grey or colour image of at least 2 x 2 pixels, or ``max_keypoints < 1``.
    """
    if max_keypoints < 1:
        raise ValueError(f"max_keypoints must be at least 1, got {max_keypoints}")
    grey = _working_grey(image, working_size)
    found, descriptors = cv2.ORB_create(nfeatures=max_keypoints).detectAndCompute(grey, None)
    shape = (int(image.shape[0]), int(image.shape[1]))
    if descriptors is None:
        return Keypoints(np.empty((0, 2)), np.empty((0, 32), dtype=np.uint8), shape)
    xy = np.array([k.pt for k in found], dtype=np.float64)
    scale = np.array([grey.shape[0] / shape[0], grey.shape[1] / shape[1]])
    return Keypoints((xy[:, ::-1] + 0.5) / scale - 0.5, descriptors, shape)


def _outline(shape: tuple[int, int]) -> np.ndarray:
    rows, cols = shape
    return np.array(
        [[-0.5, -0.5], [-0.5, cols - 0.5], [rows - 0.5, cols - 0.5], [rows - 0.5, -0.5]]
    )


def _apply(homography: np.ndarray, points: np.ndarray) -> np.ndarray:
    mapped = np.c_[points, np.ones(len(points))] @ homography.T
    with np.errstate(divide="ignore", invalid="ignore"):
        return mapped[:, :2] / mapped[:, 2:]


def _inside(points: np.ndarray, shape: tuple[int, int]) -> int:
    rows, cols = shape
    ok = (points[:, 0] >= -0.5) & (points[:, 0] <= rows - 0.5)
    ok &= (points[:, 1] >= -0.5) & (points[:, 1] <= cols - 0.5)
    return int(ok.sum())


def _plausible(homography: np.ndarray, region: np.ndarray) -> bool:
    """Reject folded, hugely stretched or perspective-exploded fits."""
    if not np.isfinite(region).all():
        return False
    det = np.linalg.det(homography[:2, :2]) / homography[2, 2] ** 2
    if not 0.01 < det < 100:
        return False
    return bool(cv2.isContourConvex(region[:, ::-1].astype(np.float32)))


def match_keypoints(
    a: Keypoints,
    b: Keypoints,
    *,
    ratio: float = 0.8,
    ransac_threshold: float = 0.01,
) -> FeatureMatch:
    """Match two keypoint sets and fit the homography from A to B.

    Parameters
    ----------
    a, b : Keypoints
        From :func:`detect_keypoints`.
    ratio : float
        Lowe's ratio test: a match is kept when its descriptor distance is below ``ratio``
        times that of the second-best candidate.
    ransac_threshold : float
        Largest reprojection error of a RANSAC inlier, as a fraction of B's longest side.

    Returns
    -------
    FeatureMatch
    """
    if not 0 < ratio <= 1:
        raise ValueError(f"ratio must be in (0, 1], got {ratio}")
    if len(a.points) < 2 or len(b.points) < 2:
        return FeatureMatch(0.0, 0, 0)
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(a.descriptors, b.descriptors, k=2)
    best: dict[int, cv2.DMatch] = {}
    for pair in pairs:
        if len(pair) == 2 and pair[0].distance < ratio * pair[1].distance:
            m = pair[0]
            # One-to-one: a keypoint of B used by several of A would inflate the inliers.
            if m.trainIdx not in best or m.distance < best[m.trainIdx].distance:
                best[m.trainIdx] = m
    good = list(best.values())
    if len(good) < MIN_INLIERS:
        return FeatureMatch(0.0, len(good), 0)
    src = a.points[[m.queryIdx for m in good]][:, ::-1].astype(np.float32)
    dst = b.points[[m.trainIdx for m in good]][:, ::-1].astype(np.float32)
    threshold = ransac_threshold * max(b.shape)
    # USAC_ACCURATE: RANSAC with local optimisation, regions within a pixel where plain
    # RANSAC is off by several.
    fitted, mask = cv2.findHomography(src, dst, cv2.USAC_ACCURATE, threshold)
    inliers = 0 if mask is None else int(mask.sum())
    if fitted is None or inliers < MIN_INLIERS:
        return FeatureMatch(0.0, len(good), inliers)
    homography = _SWAP @ fitted @ _SWAP
    region_in_b = _apply(homography, _outline(a.shape))
    if not _plausible(homography, region_in_b):
        return FeatureMatch(0.0, len(good), inliers)
    inverse = np.linalg.inv(homography)
    region_in_a = _apply(inverse, _outline(b.shape))
    common = min(
        _inside(_apply(homography, a.points), b.shape),
        _inside(_apply(inverse, b.points), a.shape),
    )
    share = inliers / max(common, inliers, MIN_COMMON)
    return FeatureMatch(
        similarity=min(1.0, share / FULL_MATCH_SHARE),
        matches=len(good),
        inliers=inliers,
        homography=homography,
        region_in_a=region_in_a,
        region_in_b=region_in_b,
    )
