"""Searching a folder's fingerprint index for the images most similar to a query image.

One query fingerprint is compared with every indexed one at once (Hamming distances and
histogram distances with numpy); the best candidates are then compared by SSIM and re-ranked
by local features. ``measurer/resources/help/similarity.md`` says what the percentages mean.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import cv2
import numpy as np

from measurer.analysis import fingerprints as fp
from measurer.analysis.features import Keypoints, detect_keypoints, match_keypoints
from measurer.io.reduced import read_reduced, read_reduced_sizes
from measurer.io.similarity_index import SimilarityError, SimilarityIndex, default_workers

#: Methods of :func:`search`.
METHODS = ("auto", "hash", "hist", "ssim", "orb")
#: Longest side, in pixels, of the images keypoints are detected on.
FEATURE_SIZE = 1024
#: Candidates taken by hash and as many by histogram similarity for the finer stages.
POOL_SIZE = 100


@dataclass(frozen=True)
class SimilarImage:
    """One search result.

    Attributes
    ----------
    path : Path
        Absolute path of the image file.
    score : float
        Similarity to the query in percent (100 = identical), by the search's method.
    scores : dict of str to float
        The similarities (percent) computed for this image: ``"hash"``, ``"hist"``,
        ``"ssim"`` and, when it was matched by local features, ``"orb"``.
    region : ndarray of shape (4, 2) or None
        Where the query lies in this image: the query's outline as (row, col) corners in
        this image's full-size pixel coordinates, from the local features.
    query_region : ndarray of shape (4, 2) or None
        Where this image lies in the query, in the query's pixel coordinates.
    """

    path: Path
    score: float
    scores: dict[str, float]
    region: np.ndarray | None = None
    query_region: np.ndarray | None = None


def search(
    index: SimilarityIndex,
    query: np.ndarray | str | os.PathLike[str],
    *,
    method: str = "auto",
    top: int | None = None,
    min_score: float = 0.0,
    rerank: int = 20,
) -> list[SimilarImage]:
    """The indexed images most similar to a query image, best first.

    The search sees the folder as it was last indexed: call ``index.update()`` first.

    Parameters
    ----------
    index : SimilarityIndex
    query : ndarray or str or PathLike
        An image array (a region of interest, say) or an image file; a query file inside
        the folder is left out of the results.
    method : {"auto", "hash", "hist", "ssim", "orb"}
        ``"hash"``, ``"hist"``, ``"ssim"``: that fingerprint similarity, over all images.
        ``"auto"``, ``"orb"``: the ``POOL_SIZE`` (or ``top``) best images by hash and as
        many by histogram are compared by SSIM; ``rerank`` of them (half the best by
        appearance, half the best by histogram) are matched by local features. ``"auto"``
        scores by :func:`~measurer.analysis.fingerprints.combined_similarity`, ``"orb"`` by
        the feature similarity alone (matched images only).
    top : int, optional
        Most results returned.
    min_score : float
        Smallest score, in percent, returned.
    rerank : int
        Images matched by local features with ``"auto"`` and ``"orb"``, on
        :func:`~measurer.io.similarity_index.default_workers` threads; 0 for none.

    Returns
    -------
    list of SimilarImage
        By decreasing score, then path.

    Raises
    ------
    SimilarityError
        Bad option.
    ValueError
        The query file cannot be read (``ImageReadError``) or the array is no image.
    """
    if method not in METHODS:
        raise SimilarityError(f"unknown method {method!r}: use one of {', '.join(METHODS)}")
    if top is not None and top < 1:
        raise SimilarityError(f"top must be at least 1, got {top}")
    if not 0 <= min_score <= 100:
        raise SimilarityError(f"the minimum score is a percentage (0-100), got {min_score}")
    if rerank < 0:
        raise SimilarityError(f"rerank must be 0 or more, got {rerank}")
    staged = method in ("auto", "orb")
    if isinstance(query, np.ndarray):
        made, features = fp.fingerprint(query), (query, 1)
    else:  # read once, decoded at the sizes needed
        sizes = (fp.WORKING_SIZE, FEATURE_SIZE) if staged and rerank else (fp.WORKING_SIZE,)
        decoded = read_reduced_sizes(query, sizes)
        made, features = fp.fingerprint(decoded[0][0]), decoded[-1]
    ids, hashes, cdfs = index.fingerprints()
    skip = None if isinstance(query, np.ndarray) else index.row_id(query)
    skip = None if skip is None else int(np.searchsorted(ids, skip))
    if staged:
        return _staged(
            index, features, made, method, skip, rerank=rerank, top=top, min_score=min_score
        )
    if method == "hash":
        total = fp.hash_similarity(made, hashes)
    elif method == "hist":
        total = fp.histogram_similarity(made, cdfs)
    else:
        total = np.zeros(len(ids))
        for chunk_ids, thumbs in index.thumbnail_chunks():
            total[np.searchsorted(ids, chunk_ids)] = fp.ssim_similarity(made, thumbs)
    if skip is not None:
        total[skip] = -1.0  # below any min_score: left out
    return _results(index, ids, total, {method: total}, {}, min_score, top)


def _staged(index, features, made, method, skip, *, rerank, top, min_score) -> list[SimilarImage]:
    """``"auto"`` and ``"orb"``: a pool by hash and histogram, SSIM, then local features of
    ``features``, the query (image, factor) to detect them on."""
    ids, hashes, cdfs = index.fingerprints()
    h, c = fp.hash_similarity(made, hashes), fp.histogram_similarity(made, cdfs)
    size = max(POOL_SIZE, top or 0)
    pool = np.union1d(_best(h, size), _best(c, size))
    if skip is not None:
        pool = pool[pool != skip]
    h, c = h[pool], c[pool]
    s = fp.ssim_similarity(made, index.thumbnails(ids[pool]))
    appearance = fp.combined_similarity(h, s, c)
    picked = _rerank_order(appearance, c, rerank)
    feature = np.full(len(pool), np.nan)
    regions: dict[int, tuple] = {}
    if len(picked):
        keypoints = detect_keypoints(features[0])
        paths = [index.root / p for p in index.paths(ids[pool[picked]])]
        match = partial(_match, keypoints=keypoints, query_factor=features[1])
        with ThreadPoolExecutor(min(default_workers(), len(paths))) as threads:
            matched = list(threads.map(match, paths))  # decoding and matching release the GIL
        for j, result in zip(picked, matched, strict=True):
            feature[j], *regions[j] = result
    if method == "orb":
        found = {k: regions[j] for k, j in enumerate(picked)}
        only = feature[picked]
        return _results(index, ids[pool[picked]], only, {"orb": only}, found, min_score, top)
    total = fp.combined_similarity(h, s, c, np.nan_to_num(feature))
    scores = {"hash": h, "hist": c, "ssim": s, "orb": feature}
    return _results(index, ids[pool], total, scores, regions, min_score, top)


def _match(path: Path, keypoints: Keypoints, query_factor: int) -> tuple:
    """Feature similarity of one file to the query, with both regions at full size."""
    try:
        image, factor = read_reduced(path, longest=FEATURE_SIZE)
        found = match_keypoints(keypoints, detect_keypoints(image))
    except (ValueError, OSError, cv2.error):  # changed or gone since it was indexed
        return 0.0, None, None
    return (
        found.similarity,
        _full_size(found.region_in_b, factor),
        _full_size(found.region_in_a, query_factor),
    )


def _full_size(points: np.ndarray | None, factor: int) -> np.ndarray | None:
    """(row, col) in a reduced decode to the file's full-size pixel coordinates."""
    return None if points is None else (points + 0.5) * factor - 0.5


def _results(index, row_ids, total, scores, regions, min_score, top) -> list[SimilarImage]:
    """SimilarImage of the rows scoring at least ``min_score`` (the ``top`` best)."""
    picked = np.flatnonzero(total * 100 >= min_score)
    if top is not None and len(picked) > top:
        picked = picked[np.argpartition(-total[picked], top - 1)[:top]]
    results = [
        SimilarImage(
            index.root / relative,
            float(100 * total[j]),
            {k: float(100 * v[j]) for k, v in scores.items() if not np.isnan(v[j])},
            *regions.get(j, (None, None)),
        )
        for j, relative in zip(picked, index.paths(row_ids[picked]), strict=True)
    ]
    results.sort(key=lambda r: (-r.score, r.path))
    return results


def _best(values: np.ndarray, count: int) -> np.ndarray:
    """Indices of the ``count`` largest ``values``."""
    if len(values) <= count:
        return np.arange(len(values))
    return np.argpartition(-values, count - 1)[:count]


def _rerank_order(appearance: np.ndarray, hist: np.ndarray, count: int) -> np.ndarray:
    """Pool members to match by features: half the best by appearance (near-copies), the
    rest the best by histogram (crops and rotations keep their histograms)."""
    first = np.argsort(-appearance, kind="stable")[: (count + 1) // 2]
    by_hist = np.argsort(-hist, kind="stable")
    return np.concatenate([first, by_hist[~np.isin(by_hist, first)][: count - len(first)]])
