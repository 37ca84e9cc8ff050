"""The statistics of compare.py, standard library only: the median's distribution-free
confidence interval (order statistics and the binomial distribution) and the
Mann–Whitney U test (exact distribution for small samples without ties, the normal
approximation with a tie correction otherwise). Written for csgb; checked in
experiments_test.py against samples with known answers."""

import math
from functools import lru_cache

MIN_SAMPLES = 5        # below this, a difference is not judged ("too few samples")
EXACT_LIMIT = 60       # exact U distribution while n1 + n2 stays at or below this


def median_interval(xs, confidence=0.95):
    """(low, high, achieved confidence) for the median of the distribution xs came
    from: the order statistics x(k) and x(n+1-k) with the largest k whose coverage
    P(x(k) <= median <= x(n+1-k)) = 1 - 2 P(Binomial(n, 1/2) < k) is still at least
    `confidence`. Under 6 samples no pair reaches 95 %: then the widest pair (min and
    max) and the confidence it has (93.8 % at n = 5, 50 % at n = 2). None for n = 0."""
    s = sorted(xs)
    n = len(s)
    if n == 0:
        return None
    if n == 1:
        return s[0], s[0], 0.0
    # below[k] = P(B < k) for B ~ Binomial(n, 1/2)
    total = 2.0 ** n
    best = 1
    cum = 0.0
    for k in range(1, n // 2 + 1):
        # coverage of (x(k), x(n+1-k)) = 1 - 2 P(B <= k-1)
        cum += math.comb(n, k - 1)
        coverage = 1 - 2 * cum / total
        if coverage >= confidence:
            best = k
        else:
            break
    cum = sum(math.comb(n, i) for i in range(best))
    return s[best - 1], s[n - best], 1 - 2 * cum / total


@lru_cache(maxsize=None)
def _u_counts(m, n):
    """How many of the C(m+n, m) orderings of two tie-free samples of sizes m and n
    give each value of U (the number of pairs in which the first sample's value is
    the smaller), as a tuple indexed by U = 0 .. m*n."""
    if m == 0 or n == 0:
        return (1,)
    # The largest of all m+n values is in the first sample (U unchanged, sizes m-1, n)
    # or in the second (it beats each of the first sample's m values: U + m).
    a, b = _u_counts(m - 1, n), _u_counts(m, n - 1)
    out = [0] * (m * n + 1)
    for u, c in enumerate(a):
        out[u] += c
    for u, c in enumerate(b):
        out[u + m] += c
    return tuple(out)


def _ranks(values):
    """Midranks (1-based) of values, and the sizes of the groups of ties."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    ties = []
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        rank = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[order[k]] = rank
        if j > i:
            ties.append(j - i + 1)
        i = j + 1
    return ranks, ties


def mann_whitney(xs, ys):
    """Two-sided Mann–Whitney U test of xs against ys: (U of xs, p-value, method).
    method is "exact" (no ties and n1 + n2 <= EXACT_LIMIT) or "normal" (with the tie
    correction and a continuity correction of 1/2). p is 1.0 when every value is
    equal. Raises ValueError on an empty sample."""
    m, n = len(xs), len(ys)
    if m == 0 or n == 0:
        raise ValueError("Mann-Whitney U needs two non-empty samples")
    ranks, ties = _ranks(list(xs) + list(ys))
    r1 = sum(ranks[:m])
    u1 = r1 - m * (m + 1) / 2          # pairs (x, y) with y < x, ties counted 1/2
    if not ties and m + n <= EXACT_LIMIT:
        counts = _u_counts(m, n)
        total = math.comb(m + n, m)
        u = int(round(u1))
        low = sum(counts[:u + 1]) / total        # P(U <= u)
        high = sum(counts[u:]) / total           # P(U >= u)
        return u1, min(1.0, 2 * min(low, high)), "exact"
    big = m + n
    tie_term = sum(t ** 3 - t for t in ties) / (big * (big - 1))
    var = m * n / 12.0 * ((big + 1) - tie_term)
    if var <= 0:
        return u1, 1.0, "normal"
    mean = m * n / 2.0
    diff = abs(u1 - mean) - 0.5
    z = max(diff, 0.0) / math.sqrt(var)
    return u1, min(1.0, math.erfc(z / math.sqrt(2))), "normal"


def geomean(values):
    vals = [v for v in values if v is not None and v > 0]
    if not vals:
        return None
    return math.exp(sum(math.log(v) for v in vals) / len(vals))
