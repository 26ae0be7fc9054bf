"""Generation: choosing next tokens for many samples at once, greedy, sampled or by beam search.

The one path behind :meth:`SequenceModel.generate <seqkit.sequence_model.SequenceModel.generate>`,
:meth:`SequenceModel.sample <seqkit.sequence_model.SequenceModel.sample>`, ``seqkit generate``
and :class:`~seqkit.callbacks.SampleText`.

**Choosing a token.** Greedy with no option (the most likely token, the first on ties).
``temperature`` divides the log-probabilities (below 1 sharpens, above 1 flattens), ``top_k``
keeps the ``k`` most likely tokens, ``top_p`` keeps the *nucleus*: the fewest most-likely
tokens whose probability adds up to at least ``p`` (Holtzman et al., 2019); they apply in that
order, as Hugging Face's generation does, in float64. ``repetition_penalty`` comes first: the
multiplicative penalty of CTRL (Keskar et al., 2019), on the log-probabilities (the model gives
probabilities, so its logits are known only up to a constant): every token already in the
row's text, prime included, has its log-probability multiplied by the penalty, that is its
probability raised to that power (above 1 discourages repeats, below 1 favours them).

**Many samples.** :func:`generate` runs ``N`` rows as one batch, one compiled call per step
for all of them (:mod:`seqkit.stepping`). Each row has its own state, its own stop and its own
random stream: row ``i`` draws from ``numpy.random.default_rng(seeds[i])``, one uniform number
per token, so a sample is the same token for token whether it is made alone or in a batch of
any size. A row that stops leaves the batch.

**Beam search** (:func:`beam_search`) keeps the ``W`` most likely continuations (by the sum of
their tokens' log-probabilities, after any repetition penalty); ``W = 1`` is greedy decoding.

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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from seqkit.checks import check_bool, check_float, check_int
from seqkit.errors import ConfigurationError, DataError

__all__ = [
    "MAX_BEAM",
    "MAX_ROWS",
    "MAX_PENALTY",
    "MAX_STEPS",
    "MAX_TOKENS",
    "Decoding",
    "Sample",
    "beam_search",
    "choose",
    "filtered_distribution",
    "filtered_distributions",
    "generate",
    "sample_next",
]

MAX_STEPS = 1_000_000
"""The most tokens one generation makes per sample (a million characters: a short book)."""

MAX_ROWS = 4096
"""The most samples one generation makes at once."""

MAX_BEAM = 256
"""The widest beam search."""

MAX_TOKENS = 10_000_000
"""The most tokens one generation makes, all samples together (``num_samples x steps``)."""

MAX_PENALTY = 100.0
"""The largest repetition penalty: a repeated token's probability raised to the 100th power is
already gone; beyond, the arithmetic overflows."""

DRAW_CHUNK = 256
"""Uniform numbers each row draws at once (its stream is the same as one draw per token)."""

STOP_REASONS = ("length", "stop")
"""Why a sample ended: it reached its ``steps``, or it generated a stop sequence."""


@dataclass(frozen=True)
class Decoding:
    """How next tokens are chosen, and when a sample ends.

    Attributes:
        temperature: divides the log-probabilities; a finite float > 0. Defaults to None (1).
        top_k: keep only the ``k`` most likely tokens. Defaults to None.
        top_p: keep the nucleus of probability ``p`` in ``(0, 1]``. Defaults to None.
        repetition_penalty: multiply the log-probability of every token already in the row's
            text by this finite float > 0. Defaults to None (no penalty).
        beam: beam search of this width instead of greedy or sampled choices. Defaults to None.
        stop: token-id sequences that end a sample when it generates one. Defaults to none.
        keep_stop: whether a sample keeps the stop sequence that ended it. Defaults to False.
        stop_texts: stop sequences matched in a sample's text instead (a subword model's, whose
            pieces may hold a stop inside them): the text is cut at the stop. Defaults to none.
    """

    temperature: float | None = None
    top_k: int | None = None
    top_p: float | None = None
    repetition_penalty: float | None = None
    beam: int | None = None
    stop: tuple[tuple[int, ...], ...] = field(default=())
    keep_stop: bool = False
    stop_texts: tuple[str, ...] = field(default=())

    @property
    def sampling(self) -> bool:
        """Whether tokens are drawn at random (a temperature, top-k or top-p), not chosen greedily."""
        return self.temperature is not None or self.top_k is not None or self.top_p is not None

    @classmethod
    def checked(cls, owner: str, vocabulary_size: int, **options: Any) -> Decoding:
        """The options checked, each refused in one line naming ``owner`` and what it takes.

        >>> Decoding.checked("generate", 26, top_k=3).top_k
        3
        >>> Decoding.checked("generate", 26, beam=2, temperature=0.5)
        Traceback (most recent call last):
        ...
        seqkit.errors.ConfigurationError: Beam search keeps the most likely continuations and draws nothing: give beam or temperature, top_k, top_p, not both.
        """
        temperature, top_k, top_p = options.get("temperature"), options.get("top_k"), options.get("top_p")
        penalty, beam = options.get("repetition_penalty"), options.get("beam")
        if temperature is not None:
            temperature = check_float(owner, "temperature", temperature, low=0.0, low_inclusive=False)
        if top_k is not None:
            top_k = check_int(owner, "top_k", top_k, maximum=vocabulary_size)
        if top_p is not None:
            top_p = check_float(owner, "top_p", top_p, low=0.0, high=1.0, low_inclusive=False)
        if penalty is not None:
            penalty = check_float(owner, "repetition_penalty", penalty, low=0.0, high=MAX_PENALTY, low_inclusive=False)
        if beam is not None:
            beam = check_int(owner, "beam", beam, maximum=MAX_BEAM)
            if temperature is not None or top_k is not None or top_p is not None:
                raise ConfigurationError(
                    "Beam search keeps the most likely continuations and draws nothing: "
                    "give beam or temperature, top_k, top_p, not both."
                )
        keep_stop = check_bool(owner, "keep_stop", options.get("keep_stop", False))
        stop = tuple(tuple(int(i) for i in sequence) for sequence in options.get("stop", ()))
        return cls(temperature, top_k, top_p, penalty, beam, stop, keep_stop, tuple(options.get("stop_texts", ())))


@dataclass(frozen=True)
class Sample:
    """One generated continuation.

    Attributes:
        prime: the tokens it continues.
        tokens: the generated tokens (without the prime; with the stop sequence only if kept).
        seed: the seed of its random stream (None for greedy decoding and beam search).
        stop_reason: ``"stop"`` (it generated a stop sequence) or ``"length"`` (it reached ``steps``).
        log_probability: the natural log of the model's probability of ``tokens`` after the prime
            (the stop sequence counted, kept or not), before any temperature, filter or penalty.
        prime_index: which of the primes it continues (0 for the first). Defaults to 0.
        text: the continuation as text: the tokens joined, or, when a stop text ended it inside a
            subword piece, cut there. Defaults to ``""``.
    """

    prime: tuple[str, ...]
    tokens: tuple[str, ...]
    seed: int | None
    stop_reason: str
    log_probability: float
    prime_index: int = 0
    text: str = ""


# Choosing one token per row -------------------------------------------------------------
def _log_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """``log(probabilities)`` in float64, rows ``(N, V)``, after checking they are a distribution."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.ndim != 2 or not probabilities.shape[1] or not np.all(np.isfinite(probabilities)) or probabilities.min() < 0:
        raise DataError(
            "The model's next-token distribution is not a vector of finite non-negative numbers "
            "(did training diverge to NaN?). Retrain with a smaller learning rate."
        )
    with np.errstate(divide="ignore"):
        return np.log(probabilities)


def _penalized(logits: np.ndarray, seen: np.ndarray | None, penalty: float | None) -> np.ndarray:
    if penalty is None or seen is None:
        return logits
    with np.errstate(invalid="ignore"):  # -inf * penalty stays -inf
        return np.where(seen, logits * penalty, logits)


def filtered_distributions(
    probabilities: np.ndarray,
    *,
    temperature: float | None = None,
    top_k: int | None = None,
    top_p: float | None = None,
    seen: np.ndarray | None = None,
    repetition_penalty: float | None = None,
) -> np.ndarray:
    """The float64 distributions the rows draw from ``(N, V)``: zeros outside each row's kept set.

    ``seen`` ``(N, V)`` marks the tokens already in each row's text, for ``repetition_penalty``.

    >>> filtered_distributions(np.array([[0.5, 0.3, 0.2], [0.2, 0.3, 0.5]]), top_k=1).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    """
    owner = "sample_next"
    logits = _penalized(_log_probabilities(probabilities), seen, repetition_penalty)
    if temperature is not None:
        logits = logits / check_float(owner, "temperature", temperature, low=0.0, low_inclusive=False)
    highest = logits.max(axis=1, keepdims=True)
    if not np.all(np.isfinite(highest)):
        raise DataError("The model's next-token distribution is all zeros; there is nothing to sample.")
    weights = np.exp(logits - highest)
    weights /= weights.sum(axis=1, keepdims=True)
    if top_k is None and top_p is None:  # nothing to cut: no sort (the same values as keeping all)
        return weights / weights.sum(axis=1, keepdims=True)
    rows, size = weights.shape
    order = np.argsort(-weights, axis=1, kind="stable")
    count = np.full(rows, size)
    if top_k is not None:
        count = np.minimum(count, check_int(owner, "top_k", top_k))
    if top_p is not None and check_float(owner, "top_p", top_p, low=0.0, high=1.0, low_inclusive=False) < 1.0:
        cumulative = np.cumsum(np.take_along_axis(weights, order, axis=1), axis=1)
        count = np.minimum(count, (cumulative < top_p - 1e-12).sum(axis=1) + 1)
    keep = np.zeros(weights.shape, dtype=bool)
    np.put_along_axis(keep, order, np.arange(size)[None, :] < count[:, None], axis=1)
    weights = np.where(keep, weights, 0.0)
    return weights / weights.sum(axis=1, keepdims=True)


def choose(
    probabilities: np.ndarray,
    decoding: Decoding,
    *,
    uniforms: np.ndarray | None = None,
    seen: np.ndarray | None = None,
) -> np.ndarray:
    """The next id of each row ``(N,)``: greedy, or drawn with the row's uniform number in ``[0, 1)``.

    >>> choose(np.array([[0.2, 0.8], [0.9, 0.1]]), Decoding()).tolist()
    [1, 0]
    """
    if not decoding.sampling:
        logits = _penalized(_log_probabilities(probabilities), seen, decoding.repetition_penalty)
        return np.argmax(logits if decoding.repetition_penalty is not None else np.asarray(probabilities, np.float64), axis=1)
    weights = filtered_distributions(
        probabilities, temperature=decoding.temperature, top_k=decoding.top_k, top_p=decoding.top_p,
        seen=seen, repetition_penalty=decoding.repetition_penalty,
    )
    if uniforms is None:
        uniforms = np.random.default_rng().random(len(weights))
    cumulative = np.cumsum(weights, axis=1)
    targets = np.asarray(uniforms, dtype=np.float64) * weights.sum(axis=1)
    index = np.minimum((cumulative <= targets[:, None]).sum(axis=1), weights.shape[1] - 1)
    rows = np.arange(len(weights))
    while np.any(edge := weights[rows, index] == 0.0):  # float rounding at the end of the cumulative sum
        index = np.where(edge, index - 1, index)
    return index


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
    rows = np.asarray(probabilities, dtype=np.float64)
    if rows.ndim != 1:
        _log_probabilities(rows[None])  # refused with the message for a distribution that is not a vector
    return filtered_distributions(rows[None], temperature=temperature, top_k=top_k, top_p=top_p)[0]


def sample_next(
    probabilities: np.ndarray,
    *,
    temperature: float | None = None,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: np.random.Generator | None = None,
) -> int:
    """The id of the next token: greedy with no option, else drawn from the filtered distribution.

    One row of :func:`choose`.

    Args:
        probabilities: the model's next-token probabilities.
        temperature: divides the log-probabilities; a finite float > 0. Defaults to None (1).
        top_k: keep only the ``k`` most likely tokens; an int >= 1. Defaults to None.
        top_p: keep the nucleus of probability ``p`` in ``(0, 1]``. Defaults to None.
        generator: where the draw comes from. Defaults to None: a fresh unseeded one.
    """
    rows = np.asarray(probabilities, dtype=np.float64)
    if rows.ndim != 1:
        _log_probabilities(rows[None])
    decoding = Decoding(temperature=temperature, top_k=top_k, top_p=top_p)
    uniforms = None
    if decoding.sampling:
        uniforms = np.array([(generator if generator is not None else np.random.default_rng()).random()])
    return int(choose(rows[None], decoding, uniforms=uniforms)[0])


# Many samples ---------------------------------------------------------------------------
def _stopped(tokens: list[int], stops: tuple[tuple[int, ...], ...]) -> tuple[int, ...] | None:
    """The stop sequence ``tokens`` ends with, if any (the first listed)."""
    for stop in stops:
        if len(tokens) >= len(stop) and tuple(tokens[len(tokens) - len(stop):]) == stop:
            return stop
    return None


def _held_back(tokens: list[int], stops: tuple[tuple[int, ...], ...]) -> int:
    """How many of the last ``tokens`` may still turn out to begin a stop sequence."""
    held = 0
    for stop in stops:
        for size in range(min(len(stop) - 1, len(tokens)), held, -1):
            if tuple(tokens[len(tokens) - size:]) == stop[:size]:
                held = size
                break
    return held


def generate(
    stepper: Any,
    primes: Sequence[Sequence[int]],
    steps: int,
    decoding: Decoding,
    *,
    vocabulary_size: int,
    seeds: Sequence[int] | None = None,
    text_of: Callable[[list[int]], str] | None = None,
    on_tokens: Callable[[int, list[int]], None] | None = None,
    on_step: Callable[[int], None] | None = None,
) -> list[tuple[list[int], str, float, str | None]]:
    """Extend every prime (ids) by up to ``steps`` ids, the rows of one batch.

    Args:
        stepper: reads the primes and advances the rows (:mod:`seqkit.stepping`).
        primes: one prime per row, each at least one id.
        steps: the most ids each row gets.
        decoding: how ids are chosen and when a row stops (``decoding.beam`` must be None).
        vocabulary_size: ``V``.
        seeds: row ``i`` draws from ``numpy.random.default_rng(seeds[i])`` when sampling.
        text_of: the text of a row's ids, when ``decoding.stop_texts`` are matched in text (a
            subword model, whose pieces may hold a stop inside them). Defaults to None.
        on_tokens: called with ``(row, ids)`` as ids become final: a row's text, streamed.
        on_step: called with the number of steps done after each step.

    Returns:
        Per row: its ids (a token stop kept or dropped), why it ended, their log-probability,
        and, when a text stop ended it, its text cut at the stop (else None).
    """
    rows = len(primes)
    generators = [np.random.default_rng(seed) for seed in seeds] if decoding.sampling and seeds is not None else None
    generated = np.zeros((rows, min(steps, DRAW_CHUNK)), dtype=np.int64)  # row r's ids: generated[r, :lengths[r]]
    lengths = np.zeros(rows, dtype=np.int64)
    dropped = np.zeros(rows, dtype=np.int64)  # the token stop a row ended with, when it is not kept
    cut_texts: list[str | None] = [None] * rows
    reasons = ["length"] * rows
    log_probabilities = np.zeros(rows)
    emitted = [0] * rows
    seen = None
    if decoding.repetition_penalty is not None:
        seen = np.zeros((rows, vocabulary_size), dtype=bool)
        for row, prime in enumerate(primes):
            seen[row, list(prime)] = True
    stops = [np.asarray(stop, dtype=np.int64) for stop in decoding.stop]
    texts_matched = bool(decoding.stop_texts) and text_of is not None
    active = np.arange(rows)
    state, probabilities = stepper.start(primes)
    draws = np.zeros((rows, min(steps, DRAW_CHUNK)))  # each row's next uniform numbers, drawn a chunk at a time
    for step in range(steps):
        uniforms = None
        if generators is not None:
            if step % DRAW_CHUNK == 0:  # random(n) continues a stream exactly as n calls of random() do
                for row in active:
                    draws[row] = generators[row].random(draws.shape[1])
            uniforms = draws[active, step % DRAW_CHUNK]
        chosen = choose(probabilities, decoding, uniforms=uniforms, seen=None if seen is None else seen[active])
        with np.errstate(divide="ignore"):
            log_probabilities[active] += np.log(np.asarray(probabilities, np.float64)[np.arange(len(active)), chosen])
        if step == generated.shape[1]:  # grown as rows go on, so early stops never pay for `steps` ids
            generated = np.concatenate([generated, np.zeros((rows, min(steps, 2 * step) - step), np.int64)], axis=1)
        generated[active, step] = chosen  # every active row has made exactly `step` ids so far
        lengths[active] = step + 1
        if seen is not None:
            seen[active, chosen] = True
        ended = np.zeros(len(active), dtype=bool)
        for stop in stops:  # the rows whose ids now end with this stop (the first stop listed wins)
            if len(stop) <= step + 1:
                hit = ~ended & np.all(generated[active, step + 1 - len(stop): step + 1] == stop, axis=1)
                dropped[active[hit]] = 0 if decoding.keep_stop else len(stop)
                ended |= hit
        if texts_matched:
            for position, row in enumerate(active):
                if not ended[position]:
                    cut = _text_stop(text_of, generated[row, : step + 1].tolist(), decoding)  # type: ignore[arg-type]
                    if cut is not None:
                        cut_texts[row], ended[position] = cut, True
        for row in active[ended]:
            reasons[row] = "stop"
        if on_tokens is not None:
            for position, row in enumerate(active):
                if cut_texts[row] is not None:
                    continue  # its last piece holds a text stop: the caller shows the cut text
                ids = generated[row, : lengths[row] - dropped[row]].tolist()
                held = 0 if ended[position] or decoding.keep_stop else _held_back(ids, decoding.stop)
                if len(ids) - held > emitted[row]:
                    on_tokens(int(row), ids[emitted[row]: len(ids) - held])
                    emitted[row] = len(ids) - held
        if on_step is not None:
            on_step(step + 1)
        if step + 1 == steps or ended.all():
            break
        if ended.any():
            going = np.nonzero(~ended)[0]
            state = stepper.select(state, going)
            active, chosen = active[going], chosen[going]
        state, probabilities = stepper.advance(state, chosen)
    outputs = [generated[row, : lengths[row] - dropped[row]].tolist() for row in range(rows)]
    if on_tokens is not None:
        for row in range(rows):
            if cut_texts[row] is None and len(outputs[row]) > emitted[row]:
                on_tokens(row, outputs[row][emitted[row]:])
    return [(outputs[row], reasons[row], float(log_probabilities[row]), cut_texts[row]) for row in range(rows)]


def _text_stop(text_of: Callable[[list[int]], str], ids: list[int], decoding: Decoding) -> str | None:
    """The text of ``ids`` cut at the first stop text it holds (kept or dropped), or None if it holds none.

    Only a stop that ends in the last id's text is new: the earlier ids were searched before. It is
    looked for in the text of the last few ids only (a stop of ``n`` characters spans at most ``4n``
    bytes, so ``4n + 1`` pieces before the last), so a step costs the same however long the sample;
    the whole text is decoded once, when a stop is found.
    """
    tail = ids[-(4 * max(map(len, decoding.stop_texts)) + 2):]
    if _stop_in(text_of(tail), len(text_of(tail[:-1])) if len(tail) > 1 else 0, decoding.stop_texts) is None:
        return None
    text = text_of(ids)
    found = _stop_in(text, len(text_of(ids[:-1])) if len(ids) > 1 else 0, decoding.stop_texts)
    if found is None:  # only the tail's cut first character looked like one
        return None
    start, stop = found
    return text[: start + len(stop)] if decoding.keep_stop else text[:start]


def _stop_in(text: str, before: int, stops: tuple[str, ...]) -> tuple[int, str] | None:
    """Where the first of ``stops`` that ends after ``text[:before]`` starts in ``text``, and which; None if none does."""
    found = [(text.find(stop, max(0, before - len(stop) + 1)), stop) for stop in stops]
    found = [(start, stop) for start, stop in found if start >= 0]
    return min(found) if found else None


def beam_search(
    stepper: Any,
    prime: Sequence[int],
    steps: int,
    decoding: Decoding,
    *,
    vocabulary_size: int,
    text_of: Callable[[list[int]], str] | None = None,
    on_step: Callable[[int], None] | None = None,
) -> list[tuple[list[int], str, float, str | None]]:
    """The ``decoding.beam`` most likely continuations of ``prime`` (ids), most likely first.

    At each step every live beam is extended by every token; the ``W`` best by score (the sum
    of log-probabilities, penalized) go on, ties to the earlier beam and then the lower id, so
    ``W = 1`` is greedy decoding. A beam that generates a stop sequence is finished; the
    search ends when ``steps`` are done or no live beam can beat the ``W`` finished ones.

    Returns:
        Up to ``W`` beams: ids (a token stop kept or dropped), why each ended, its
        log-probability under the model (no penalty), and its text cut at a text stop (else None).
    """
    width = decoding.beam or 1
    state, probabilities = stepper.start([prime])
    beams: list[list[int]] = [[]]
    scores = np.zeros(1)
    model_scores = np.zeros(1)
    seen = None
    if decoding.repetition_penalty is not None:
        seen = np.zeros((1, vocabulary_size), dtype=bool)
        seen[0, list(prime)] = True
    finished: list[tuple[float, int, list[int], str, float, str | None]] = []  # score, order, ids, reason, model score, text
    for step in range(steps):
        logits = _log_probabilities(probabilities)
        ranked = scores[:, None] + _penalized(logits, seen, decoding.repetition_penalty)
        flat = ranked.reshape(-1)
        best = np.argsort(-flat, kind="stable")[:width]
        best = best[np.isfinite(flat[best])]
        parents, tokens = best // vocabulary_size, best % vocabulary_size
        going: list[int] = []
        next_beams: list[list[int]] = []
        for number, (parent, token) in enumerate(zip(parents.tolist(), tokens.tolist())):
            ids = [*beams[parent], token]
            score, model_score = float(flat[best[number]]), float(model_scores[parent] + logits[parent, token])
            stop = _stopped(ids, decoding.stop)
            cut = _text_stop(text_of, ids, decoding) if stop is None and decoding.stop_texts and text_of else None
            if stop is not None:
                kept = ids if decoding.keep_stop else ids[: len(ids) - len(stop)]
                finished.append((score, len(finished), kept, "stop", model_score, None))
            elif cut is not None:
                finished.append((score, len(finished), ids, "stop", model_score, cut))
            else:
                going.append(number)
                next_beams.append(ids)
        if on_step is not None:
            on_step(step + 1)
        finished.sort(key=lambda item: (-item[0], item[1]))
        finished = finished[:width]
        if not going or step + 1 == steps:
            beams, scores = next_beams, flat[best[going]]
            model_scores = np.array([model_scores[parents[n]] + logits[parents[n], tokens[n]] for n in going])
            break
        beams = next_beams
        model_scores = np.array([model_scores[parents[n]] + logits[parents[n], tokens[n]] for n in going])
        scores = flat[best[going]]
        if len(finished) >= width and scores.max() <= finished[-1][0]:
            break  # a live beam's score only falls: none can still beat the finished ones
        if seen is not None:
            seen = seen[parents[going]]
            seen[np.arange(len(going)), tokens[going]] = True
        state = stepper.select(state, parents[going])
        state, probabilities = stepper.advance(state, tokens[going])
    live = [(float(score), len(finished) + n, ids, "length", float(model_score), None)
            for n, (score, ids, model_score) in enumerate(zip(scores, beams, model_scores))]
    ranked_all = sorted(finished + live, key=lambda item: (-item[0], item[1]))[:width]
    return [(ids, reason, model_score, text) for _, _, ids, reason, model_score, text in ranked_all]
