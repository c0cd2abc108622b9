"""Edges between the extremes of a layer profile: mid-level crossing, blur sigma, slow ramps.

Helpers of :mod:`measurer.analysis.layers` (steps 2 and 3 of its method): where each edge
crosses the mid-level of its two extremes, its Gaussian blur sigma from the probit of its rise,
and the removal of transitions much slower than the typical edge.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtri


def _first_last(groups: np.ndarray, values: np.ndarray, count: int) -> np.ndarray:
    """Mean of the first and last value of each group (groups sorted); NaN for empty ones."""
    out = np.full(count, np.nan)
    if groups.size:
        first = np.r_[True, groups[1:] != groups[:-1]]
        last = np.r_[groups[1:] != groups[:-1], True]
        out[groups[first]] = (values[first] + values[last]) / 2
    return out


def measure_edges(smooth: np.ndarray, ext: list[int]) -> dict[str, np.ndarray]:
    """Measure the edge between each pair of neighbouring extremes of the smoothed profile.

    Returns arrays (one value per edge) under ``cut`` (where the profile crosses the mid-level
    of the two extremes, in samples: the mean of the first and last crossing when noise makes
    several), ``level`` (the mid-level), ``swing`` and ``sigma``: the Gaussian sigma of the
    edge, from a straight-line fit to the probit of the normalised profile between 10 % and
    90 % (exact for an erf-shaped edge) within 2.5 "steepness" sigmas (swing over maximum
    slope) of the crossing, so that ramps beside an edge do not widen it. NaN when fewer than
    two samples fall there.
    """
    idx = np.asarray(ext, dtype=np.intp)
    count = max(idx.size - 1, 0)
    if count == 0:
        empty = np.zeros(0)
        return {"cut": empty, "level": empty, "swing": empty, "sigma": empty}
    va, vb = smooth[idx[:-1]], smooth[idx[1:]]
    level = (va + vb) / 2
    swing = np.abs(vb - va)
    # every sample j with ext[k] <= j < ext[k + 1] belongs to edge k
    j = np.arange(idx[0], idx[-1])
    group = np.repeat(np.arange(count), np.diff(idx))
    a, b = smooth[j], smooth[j + 1]
    t = level[group]
    crossing = (a >= t) != (b >= t)
    frac = np.divide(t - a, b - a, out=np.zeros_like(a), where=crossing)
    cut = _first_last(group[crossing], (j + frac)[crossing], count)
    slope = np.maximum.reduceat(np.abs(b - a), idx[:-1] - idx[0])
    reach = 2.5 * swing / (math.sqrt(2 * math.pi) * np.maximum(slope, 1e-300))
    rise = (a - va[group]) / (vb - va)[group]
    use = (rise > 0.1) & (rise < 0.9) & (np.abs(j - cut[group]) <= reach[group])
    g, x = group[use], j[use].astype(float)
    z = ndtri(rise[use])
    n = np.bincount(g, minlength=count).astype(float)
    sx, sz = np.bincount(g, x, count), np.bincount(g, z, count)
    sxx, sxz = np.bincount(g, x * x, count), np.bincount(g, x * z, count)
    denominator = n * sxx - sx**2
    fitted = (n >= 2) & (denominator > 0)
    probit_slope = np.divide(n * sxz - sx * sz, denominator, out=np.zeros(count), where=fitted)
    sigma = np.full(count, np.nan)
    good = fitted & (probit_slope > 0)
    sigma[good] = 1.0 / probit_slope[good]
    return {"cut": cut, "level": level, "swing": swing, "sigma": sigma}


def drop_slow_edges(
    smooth: np.ndarray, ext: list[int], kinds: list[int], sigmas: np.ndarray
) -> tuple[list[int], list[int]]:
    """Remove extremes joined by transitions much slower than the typical edge.

    Such transitions are background ramps or bands, not layer boundaries. For each run of
    consecutive slow edges: at a profile end, the extremes out to that end go; inside, the
    extremes within the run go, and when that leaves two maxima (or minima) side by side, the
    less extreme of the two. A single slow edge inside is kept: it is a boundary, only blurred.
    """
    finite = sigmas[np.isfinite(sigmas)]
    if finite.size < 2:
        return ext, kinds
    slow = sigmas > 3 * float(np.median(finite)) + 1.0
    drop: set[int] = set()
    k, count = 0, slow.size
    while k < count:
        if not slow[k]:
            k += 1
            continue
        m = k
        while m + 1 < count and slow[m + 1]:
            m += 1
        if k == 0 and m == count - 1:
            pass  # every edge is slow: nothing to compare with
        elif k == 0:
            drop.update(range(0, m + 1))
        elif m == count - 1:
            drop.update(range(k + 1, count + 1))
        else:
            drop.update(range(k + 1, m + 1))
            if (m - k) % 2 == 1:  # extremes k and m + 1 are now of the same type
                weaker = k if (smooth[ext[k]] - smooth[ext[m + 1]]) * kinds[k] < 0 else m + 1
                drop.add(weaker)
        k = m + 1
    keep = [i for i in range(len(ext)) if i not in drop]
    return [ext[i] for i in keep], [kinds[i] for i in keep]
