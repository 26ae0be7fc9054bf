"""Choosing the next token from a distribution: greedy, or sampled as generation tools do.

:func:`sample_next` works in float64 on a stable log-softmax. With no option it is greedy
(the most likely token, the first on ties). ``temperature`` divides the log-probabilities
(below 1 sharpens, above 1 flattens), ``top_k`` keeps the ``k`` most likely tokens,
``top_p`` keeps the *nucleus*: the fewest most-likely tokens whose probability adds up to
at least ``p`` (Holtzman et al., 2019); they apply in that order, as Hugging Face's
generation does, and the draw comes from the ``numpy.random.Generator`` given, so the same
seed gives the same text.

>>> import numpy as np
>>> p = np.array([0.5, 0.3, 0.15, 0.05])
>>> sample_next(p)
0
>>> rng = np.random.default_rng(0)
>>> sorted({sample_next(p, top_k=2, generator=rng) for _ in range(200)})
[0, 1]
>>> sorted({sample_next(p, top_p=0.9, generator=rng) for _ in range(200)})
[0, 1, 2]
"""

from __future__ import annotations

import numpy as np

from seqkit.checks import check_float, check_int
from seqkit.errors import DataError

__all__ = ["filtered_distribution", "sample_next"]


def filtered_distribution(
    probabilities: np.ndarray,
    *,
    temperature: float | None = None,
    top_k: int | None = None,
    top_p: float | None = None,
) -> np.ndarray:
    """The float64 distribution that :func:`sample_next` draws from (zeros outside the kept set).

    >>> filtered_distribution(np.array([0.5, 0.3, 0.2]), top_k=2).round(3).tolist()
    [0.625, 0.375, 0.0]
    """
    owner = "sample_next"
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.ndim != 1 or not len(probabilities) or not np.all(np.isfinite(probabilities)) or probabilities.min() < 0:
        raise DataError(
            "The model's next-token distribution is not a vector of finite non-negative numbers "
            "(did training diverge to NaN?). Retrain with a smaller learning rate."
        )
    with np.errstate(divide="ignore"):
        logits = np.log(probabilities)
    if temperature is not None:
        logits = logits / check_float(owner, "temperature", temperature, low=0.0, low_inclusive=False)
    if not np.isfinite(logits.max()):
        raise DataError("The model's next-token distribution is all zeros; there is nothing to sample.")
    weights = np.exp(logits - logits.max())
    weights /= weights.sum()
    order = np.argsort(-weights, kind="stable")
    keep = np.zeros(len(weights), dtype=bool)
    count = len(weights)
    if top_k is not None:
        count = min(count, check_int(owner, "top_k", top_k))
    if top_p is not None and check_float(owner, "top_p", top_p, low=0.0, high=1.0, low_inclusive=False) < 1.0:
        cumulative = np.cumsum(weights[order])
        count = min(count, int(np.searchsorted(cumulative, top_p - 1e-12)) + 1)
    keep[order[:count]] = True
    weights = np.where(keep, weights, 0.0)
    return weights / weights.sum()


def sample_next(
    probabilities: np.ndarray,
    *,
    temperature: float | None = None,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: np.random.Generator | None = None,
) -> int:
    """The id of the next token: greedy with no option, else drawn from the filtered distribution.

    Args:
        probabilities: the model's next-token probabilities.
        temperature: divides the log-probabilities; a finite float > 0. Defaults to None (1).
        top_k: keep only the ``k`` most likely tokens; an int >= 1. Defaults to None.
        top_p: keep the nucleus of probability ``p`` in ``(0, 1]``. Defaults to None.
        generator: where the draw comes from. Defaults to None: a fresh unseeded one.
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if temperature is None and top_k is None and top_p is None:
        filtered_distribution(probabilities)  # the same checks
        return int(np.argmax(probabilities))
    weights = filtered_distribution(probabilities, temperature=temperature, top_k=top_k, top_p=top_p)
    generator = generator if generator is not None else np.random.default_rng()
    index = int(np.searchsorted(np.cumsum(weights), generator.random() * weights.sum(), side="right"))
    index = min(index, len(weights) - 1)
    while weights[index] == 0.0:  # float rounding at the edge of the cumulative sum
        index -= 1
    return index
