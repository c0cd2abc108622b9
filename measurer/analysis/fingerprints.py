"""Compact image fingerprints and vectorised similarity scores for near-duplicate search.

Every similarity here is a fraction in [0, 1] scaled so that 0 is about what two unrelated
images score and 1 means identical fingerprints; the percentages shown to users are these
fractions times 100 (``measurer/resources/help/similarity.md`` says what they mean).

- Perceptual hashes: difference hash (dHash) and DCT hash (pHash), 64 and 256 bits each,
  of the image and of its mirror image. Two unrelated images differ in half of the bits on
  average, so ``1 - 2 * (fraction of differing bits)`` is 0 for them and 1 for equal hashes.
- Intensity distributions: grey and red/green/blue histograms of the contrast-stretched image,
  compared by the 1-D Earth Mover's (Wasserstein-1) distance.
- Structure: SSIM between contrast-stretched 32 x 32 thumbnails.

All fingerprint parts are uint8 arrays so that they can be stored and compared as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: Hashes stored side by side in ``Fingerprint.hashes``: (name, bits), each a multiple of 64.
HASH_LAYOUT: tuple[tuple[str, int], ...] = (
    ("dhash64", 64),
    ("phash64", 64),
    ("dhash256", 256),
    ("phash256", 256),
)
#: Bytes of all hashes of one image together.
HASH_BYTES = sum(bits for _, bits in HASH_LAYOUT) // 8
#: Histogram bins over the stretched intensity range.
HIST_BINS = 32
#: Side of the square SSIM thumbnail.
THUMB_SIZE = 32
#: Earth Mover's distance, as a fraction of the intensity range, that counts as 0 % similar.
EMD_UNRELATED = 0.25
#: Percentiles of the grey values that are stretched to 0 and 255.
STRETCH_PERCENTILES = (1.0, 99.0)
#: Default smallest similarity (fraction) of a search result: unrelated images score below it.
DEFAULT_THRESHOLD = 0.7
#: Weight of the local-feature similarity in :func:`combined_similarity`.
FEATURE_WEIGHT = 0.9
#: Longest side the image is reduced to before anything else is computed.
WORKING_SIZE = 256

_RESIZABLE = {np.dtype(t) for t in (np.uint8, np.uint16, np.int16, np.float32, np.float64)}
# Rows compared at a time, so that the temporary arrays stay in the processor's cache.
_CHUNK = 8192
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)
# Weight of each 64-bit word of the hashes so that every hash counts equally in the mean.
_WORD_WEIGHTS = np.concatenate(
    [np.full(bits // 64, max(b for _, b in HASH_LAYOUT) // bits) for _, bits in HASH_LAYOUT]
).astype(np.float32)  # exact: the weighted sums stay far below 2**24


@dataclass(frozen=True)
class Fingerprint:
    """Everything the similarity search keeps about one image.

    Attributes
    ----------
    hashes, hashes_mirrored : ndarray of uint8, shape (HASH_BYTES,)
        Packed bits of dHash-64, pHash-64, dHash-256 and pHash-256 (``HASH_LAYOUT`` order)
        of the image and of its left-right mirror image.
    cdfs : ndarray of uint8, shape (4, HIST_BINS)
        Cumulative histograms (grey, red, green, blue) of the contrast-stretched image in
        steps of 1/255, each ending at 255. A grey image has four equal rows.
    thumbnail : ndarray of uint8, shape (THUMB_SIZE, THUMB_SIZE)
        Contrast-stretched grey thumbnail (the aspect ratio is not kept).
    shape : tuple of int
        Rows and columns of the image the fingerprint was made from.
    """

    hashes: np.ndarray
    hashes_mirrored: np.ndarray
    cdfs: np.ndarray
    thumbnail: np.ndarray
    shape: tuple[int, int]

    def to_dict(self) -> dict:
        """Hashes as hexadecimal strings, histograms and thumbnail as nested lists."""
        out: dict = {"shape": list(self.shape)}
        start = 0
        for name, bits in HASH_LAYOUT:
            stop = start + bits // 8
            out[name] = self.hashes[start:stop].tobytes().hex()
            out[name + "_mirrored"] = self.hashes_mirrored[start:stop].tobytes().hex()
            start = stop
        out["cdfs"] = self.cdfs.tolist()
        out["thumbnail"] = self.thumbnail.tolist()
        return out


def _working_copy(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """uint8 grey and RGB copies of ``image`` with at most WORKING_SIZE pixels a side.

    Other dtypes than uint8 are mapped linearly to 0..255 between the 0.01 and 99.99
    percentiles (robust to a few hot pixels), after the reduction.
    """
    if not isinstance(image, np.ndarray) or not (
        np.issubdtype(image.dtype, np.number) or image.dtype == bool
    ):
        raise ValueError("image must be a numeric numpy array")
    if image.ndim == 3 and image.shape[2] in (1, 3, 4):
        image = image[:, :, 0] if image.shape[2] == 1 else image[:, :, :3]
    elif image.ndim != 2:
        raise ValueError(
            f"image must be 2-D grey or 3-D RGB/RGBA, got an array of shape {image.shape}"
        )
    if image.shape[0] < 2 or image.shape[1] < 2:
        raise ValueError(f"an image of shape {image.shape} is too small to fingerprint")
    work = image
    if work.dtype not in _RESIZABLE:  # bool, 32- and 64-bit integers
        work = work.astype(np.float32)
    scale = WORKING_SIZE / max(work.shape[:2])
    if scale < 1:  # reduced first: a large 16-bit image is never copied as floats
        size = (max(2, round(work.shape[1] * scale)), max(2, round(work.shape[0] * scale)))
        work = cv2.resize(np.ascontiguousarray(work), size, interpolation=cv2.INTER_AREA)
    if work.dtype != np.uint8:
        work = work.astype(np.float32)
        if not np.isfinite(work).all():
            raise ValueError("image contains NaN or infinite values")
        lo, hi = (float(v) for v in np.percentile(work, (0.01, 99.99)))
        work = _stretch(work, lo, hi)
    if work.ndim == 2:
        return work, cv2.cvtColor(work, cv2.COLOR_GRAY2RGB)
    return cv2.cvtColor(work, cv2.COLOR_RGB2GRAY), np.ascontiguousarray(work)


def _dhash_bits(small: np.ndarray) -> np.ndarray:
    """Bits 'brighter than the left neighbour'."""
    return small[:, 1:] > small[:, :-1]


def _phash_bits(small: np.ndarray, side: int) -> np.ndarray:
    """Bits 'above the median' of the ``side`` x ``side`` lowest DCT frequencies."""
    low = cv2.dct(np.ascontiguousarray(small))[:side, :side]
    return low > np.median(low)


def _hashes(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Packed hashes of ``grey`` and of its mirror image."""
    plain, mirrored = [], []
    for name, bits in HASH_LAYOUT:
        side = round(bits**0.5)
        if name.startswith("dhash"):
            small = cv2.resize(grey, (side + 1, side), interpolation=cv2.INTER_AREA)
            pair = [_dhash_bits(a) for a in (small, small[:, ::-1])]
        else:
            small = cv2.resize(grey, (4 * side, 4 * side), interpolation=cv2.INTER_AREA)
            pair = [_phash_bits(a, side) for a in (small, small[:, ::-1])]
        plain.append(np.packbits(pair[0]))
        mirrored.append(np.packbits(pair[1]))
    return np.concatenate(plain), np.concatenate(mirrored)


def _stretch(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """``values`` with ``lo``..``hi`` mapped linearly to 0..255, clipped, as uint8."""
    scale = 255.0 / (hi - lo) if hi > lo else 1.0
    out = (values - lo) * scale
    np.clip(out, 0.0, 255.0, out=out)
    return (out + 0.5).astype(np.uint8)


def _cdf(values: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    counts = cv2.calcHist([values], [0], mask, [HIST_BINS], [0, 256])
    cumulative = np.cumsum(counts.ravel())
    return np.round(cumulative * (255.0 / cumulative[-1])).astype(np.uint8)


def _stretch_table(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Lookup table stretching ``grey``'s ``STRETCH_PERCENTILES`` to 0 and 255, and the mask
    of the pixels histograms count (None: all)."""
    counts = np.bincount(grey.ravel(), minlength=256)
    present = np.flatnonzero(counts)
    lowest, highest = int(present[0]), int(present[-1])
    # Padding (black corners of a rotated copy) and clipped highlights sit at the extreme
    # values; leaving them out keeps stretch and histograms those of the picture itself.
    mask = None
    if highest - lowest > 1 and counts[lowest + 1 : highest].sum() >= grey.size / 2:
        mask = cv2.inRange(grey, lowest + 1, highest - 1)
        counts[[lowest, highest]] = 0
    cumulative = np.cumsum(counts) / counts.sum()
    lo, hi = np.searchsorted(cumulative, np.array(STRETCH_PERCENTILES) / 100.0)
    return _stretch(np.arange(256, dtype=np.float32), float(lo), float(hi)), mask


def fingerprint(image: np.ndarray) -> Fingerprint:
    """Perceptual hashes, histograms and thumbnail of an image.

    Parameters
    ----------
    image : ndarray of shape (M, N), (M, N, 1), (M, N, 3) or (M, N, 4)
        Grey or RGB(A) image of any numeric dtype; alpha is ignored. Never modified.
        Images larger than ``WORKING_SIZE`` on their longest side are first reduced to
        that size by area averaging, and other dtypes than uint8 are mapped to 8 bits.
        Hashes use the grey values as they are; histograms and thumbnail use them
        stretched so that the ``STRETCH_PERCENTILES`` become 0 and 255, which makes them
        independent of exposure (gain and offset). Pixels at the image's lowest or highest
        value (padding, saturation) are left out of the percentiles and histograms unless
        they are half of the image.

    Returns
    -------
    Fingerprint

    Raises
    ------
    ValueError
        If the array is not a finite grey or colour image of at least 2 x 2 pixels.
    """
    grey, rgb = _working_copy(image)
    table, mask = _stretch_table(grey)
    grey8 = cv2.LUT(grey, table)
    channels = cv2.split(cv2.LUT(rgb, table))
    hashes, hashes_mirrored = _hashes(grey.astype(np.float32))
    return Fingerprint(
        hashes=hashes,
        hashes_mirrored=hashes_mirrored,
        cdfs=np.stack([_cdf(grey8, mask)] + [_cdf(c, mask) for c in channels]),
        thumbnail=cv2.resize(grey8, (THUMB_SIZE, THUMB_SIZE), interpolation=cv2.INTER_AREA),
        shape=(int(image.shape[0]), int(image.shape[1])),
    )


def popcount(words: np.ndarray) -> np.ndarray:
    """Number of set bits of every element of an unsigned integer array."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(words)
    # numpy < 2.0: a byte lookup table.
    per_byte = _POPCOUNT[np.ascontiguousarray(words).view(np.uint8)]
    return per_byte.reshape(*words.shape, words.dtype.itemsize).sum(axis=-1)


def hash_similarity(query: Fingerprint, hashes: np.ndarray) -> np.ndarray:
    """Similarity of the query's hashes to those of K images, from Hamming distances.

    Parameters
    ----------
    query : Fingerprint
    hashes : ndarray of uint8, shape (K, HASH_BYTES)
        ``Fingerprint.hashes`` of K images.

    Returns
    -------
    ndarray of float, shape (K,)
        ``1 - 2 d`` clipped to [0, 1], where ``d`` is the fraction of differing bits,
        averaged over the four hashes, of the query or of its mirror image (whichever is
        closer): 1 for equal hashes, 0 at or beyond the half of the bits by which unrelated
        images differ on average.
    """
    words = np.ascontiguousarray(hashes).view(np.uint64)
    count, width = words.shape
    full = len(HASH_LAYOUT) * max(bits for _, bits in HASH_LAYOUT)
    # The query's words repeated along flat rows: long vector operations, in cache-sized chunks.
    queries = [
        np.tile(h.view(np.uint64), min(count, _CHUNK))
        for h in (query.hashes, query.hashes_mirrored)
    ]
    distances = np.empty(count)
    flat = words.reshape(-1)
    for start in range(0, count, _CHUNK):
        chunk = flat[start * width : (start + _CHUNK) * width]
        counts = [popcount(np.bitwise_xor(chunk, q[: chunk.size])) for q in queries]
        weighted = [c.reshape(-1, width).astype(np.float32) @ _WORD_WEIGHTS for c in counts]
        np.minimum(*weighted, out=distances[start : start + _CHUNK])
    return np.clip(1.0 - 2.0 * (distances / full), 0.0, 1.0)


def histogram_similarity(query: Fingerprint, cdfs: np.ndarray) -> np.ndarray:
    """Similarity of intensity distributions by the Earth Mover's distance.

    Parameters
    ----------
    query : Fingerprint
    cdfs : ndarray of uint8, shape (K, 4, HIST_BINS)
        ``Fingerprint.cdfs`` of K images.

    Returns
    -------
    ndarray of float, shape (K,)
        ``1 - W / EMD_UNRELATED`` clipped to [0, 1], where ``W`` is the Wasserstein-1
        distance between the stretched intensity distributions as a fraction of the
        intensity range, averaged over grey, red, green and blue.
    """
    if len(cdfs) == 0:
        return np.zeros(0)
    rows = np.ascontiguousarray(cdfs).reshape(len(cdfs), -1)
    count = len(rows)
    queries = np.tile(query.cdfs.reshape(1, -1), (min(count, _CHUNK), 1))
    total = np.empty(count, dtype=np.int32)
    for start in range(0, count, _CHUNK):
        chunk = rows[start : start + _CHUNK]
        diff = cv2.absdiff(chunk, queries[: len(chunk)])
        total[start : start + len(chunk)] = cv2.reduce(
            diff, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S
        ).ravel()
    emd = total / (255.0 * rows.shape[1])
    return np.clip(1.0 - emd / EMD_UNRELATED, 0.0, 1.0)


def ssim_similarity(query: Fingerprint, thumbnails: np.ndarray, *, window: int = 7) -> np.ndarray:
    """Mean structural similarity (SSIM) of the query's thumbnail to K others.

    Parameters
    ----------
    query : Fingerprint
    thumbnails : ndarray of uint8, shape (K, THUMB_SIZE, THUMB_SIZE)
        ``Fingerprint.thumbnail`` of K images.
    window : int
        Side (odd) of the square window of the local statistics.

    Returns
    -------
    ndarray of float, shape (K,)
        Mean SSIM (Wang et al. 2004; uniform window, data range 255) over the pixels whose
        window lies inside the thumbnail, of the query or of its mirror image (the larger),
        clipped to [0, 1]: unrelated images score near 0, identical ones 1.
    """
    side = THUMB_SIZE
    if window % 2 == 0 or not 1 < window <= side:
        raise ValueError(f"window must be odd and in 3..{side}, got {window}")
    count = len(thumbnails)
    if count == 0:
        return np.zeros(0)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    inner = slice(window // 2, side - window // 2)

    def mean(a: np.ndarray) -> np.ndarray:
        """Window means of a stack of thumbnails, at the pixels kept (away from the edges)."""
        # Stacked into one tall image: the windows of the pixels kept never reach a neighbour.
        flat = cv2.boxFilter(a.reshape(-1, side), -1, (window, window))
        return flat.reshape(a.shape)[..., inner, inner]

    y = thumbnails.astype(np.float32)
    my = mean(y)
    vy = mean(y * y) - my * my
    best = np.zeros(count)
    for thumb in (query.thumbnail, query.thumbnail[:, ::-1]):
        x = thumb.astype(np.float32)
        mx = mean(x)
        vx = mean(x * x) - mx * mx
        cov = mean(x * y) - mx * my
        ssim = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
        best = np.maximum(best, ssim.mean(axis=(1, 2)))
    return np.clip(best, 0.0, 1.0)


def combined_similarity(
    hash_sim: np.ndarray,
    ssim_sim: np.ndarray,
    hist_sim: np.ndarray,
    feature_sim: np.ndarray | None = None,
) -> np.ndarray:
    """The overall similarity: appearance, raised by local features where they agree.

    Parameters
    ----------
    hash_sim, ssim_sim, hist_sim : ndarray of float, shape (K,)
        From :func:`hash_similarity`, :func:`ssim_similarity`, :func:`histogram_similarity`.
    feature_sim : ndarray of float, shape (K,), optional
        ``FeatureMatch.similarity`` from :mod:`measurer.analysis.features` (0 where the
        features were not compared).

    Returns
    -------
    ndarray of float, shape (K,)
        The appearance similarity ``a``, the mean of the three; with ``feature_sim`` ``f``,
        ``max(a, w f + (1 - w) a)`` with ``w = FEATURE_WEIGHT``. Near-copies score high by
        appearance; crops, rotations and parts of an image, whose appearance changed more,
        by their matched keypoints. Appearance still breaks ties between equally good
        feature matches, and only images that also look identical reach 1.
    """
    appearance = (np.asarray(hash_sim) + np.asarray(ssim_sim) + np.asarray(hist_sim)) / 3.0
    if feature_sim is None:
        return appearance
    blend = FEATURE_WEIGHT * np.asarray(feature_sim) + (1.0 - FEATURE_WEIGHT) * appearance
    return np.maximum(appearance, blend)
