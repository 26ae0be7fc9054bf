"""Specification of sampling: greedy by default, temperature, top-k and nucleus (top-p), seeded."""

from __future__ import annotations

import numpy as np
import pytest

import seqkit
from seqkit.errors import ConfigurationError, DataError
from seqkit.sampling import filtered_distribution, sample_next
from seqkit.trainers import StatefulTrainer, StatelessTrainer

DISTRIBUTION = np.random.default_rng(3).dirichlet(np.ones(26) * 0.5)
DRAWS = 10_000


def test_no_option_is_greedy():
    assert sample_next(DISTRIBUTION) == int(np.argmax(DISTRIBUTION))


@pytest.mark.parametrize("k", [1, 3, 10])
def test_top_k_never_samples_outside_the_k_most_likely(k):
    allowed = set(np.argsort(-DISTRIBUTION, kind="stable")[:k].tolist())
    rng = np.random.default_rng(0)
    drawn = {sample_next(DISTRIBUTION, top_k=k, generator=rng) for _ in range(DRAWS)}
    assert drawn <= allowed and len(drawn) == k


@pytest.mark.parametrize("p", [0.5, 0.8, 0.95])
def test_top_p_never_samples_outside_the_nucleus(p):
    order = np.argsort(-DISTRIBUTION, kind="stable")
    size = int(np.searchsorted(np.cumsum(DISTRIBUTION[order]), p)) + 1  # fewest tokens reaching p
    nucleus = set(order[:size].tolist())
    rng = np.random.default_rng(1)
    drawn = {sample_next(DISTRIBUTION, top_p=p, generator=rng) for _ in range(DRAWS)}
    assert drawn <= nucleus and len(drawn) == len(nucleus)


def test_top_k_and_top_p_together_keep_the_smaller_set():
    weights = filtered_distribution(DISTRIBUTION, top_k=2, top_p=0.99)
    assert np.count_nonzero(weights) == 2 and weights.sum() == pytest.approx(1.0)


def test_draws_follow_the_tempered_distribution():
    rng = np.random.default_rng(2)
    counts = np.bincount([sample_next(DISTRIBUTION, temperature=1.0, generator=rng) for _ in range(DRAWS)], minlength=26)
    assert np.abs(counts / DRAWS - DISTRIBUTION).max() < 0.02


def test_a_tiny_temperature_is_greedy_not_nan():
    rng = np.random.default_rng(0)
    assert {sample_next(DISTRIBUTION, temperature=1e-39, generator=rng) for _ in range(100)} == {int(np.argmax(DISTRIBUTION))}


def test_a_nan_distribution_is_refused():
    with pytest.raises(DataError) as error:
        sample_next(np.array([0.5, np.nan]))
    assert str(error.value) == (
        "The model's next-token distribution is not a vector of finite non-negative numbers "
        "(did training diverge to NaN?). Retrain with a smaller learning rate."
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"top_k": 0}, "The 'top_k' parameter of SequenceModel.generate must be an int in [1, 26]. Got 0 instead."),
        ({"top_p": 1.5}, "The 'top_p' parameter of SequenceModel.generate must be a float in (0, 1]. Got 1.5 instead."),
        ({"temperature": float("inf")}, "The 'temperature' parameter of SequenceModel.generate must be a finite float > 0. Got inf instead."),
    ],
)
def test_bad_sampling_options_are_refused(tiny_model, options, message):
    with pytest.raises(ConfigurationError) as error:
        tiny_model.generate("AB", 3, **options)
    assert str(error.value) == message


@pytest.fixture(scope="module")
def tiny_model():
    model, _ = StatelessTrainer(window=2, encoding="onehot", units=8, epochs=3).fit(seqkit.alphabet())
    return model


def test_the_same_seed_gives_the_same_text(tiny_model):
    first = tiny_model.generate("AB", 40, temperature=1.5, top_k=5, top_p=0.9, seed=11)
    assert first == tiny_model.generate("AB", 40, temperature=1.5, top_k=5, top_p=0.9, seed=11)
    assert first != tiny_model.generate("AB", 40, temperature=1.5, top_k=5, top_p=0.9, seed=12)


def test_stateful_sampling_is_seeded_too():
    model, _ = StatefulTrainer(units=8, epochs=2).fit(seqkit.alphabet())
    texts = []
    for _ in range(2):
        model.reset()
        texts.append(model.generate("A", 20, top_p=0.9, seed=5))
    assert texts[0] == texts[1]


def test_generate_is_linear_in_its_steps(tiny_model, monkeypatch):
    """A stateless model reads only its last window: every step costs the same.

    Counted, not timed: each generated token is predicted from exactly one window of the
    model's ``L`` ids, the last ``L`` of the text so far, and only the prime is encoded,
    so 10x the steps feed 10x the ids however long the text has grown. (0.1 re-encoded
    the whole text at every step and took 58 s for 32,000.)
    """
    fed: list[np.ndarray] = []
    encoded: list[int] = []
    probabilities, encode = tiny_model.probabilities, seqkit.Vocabulary.encode

    def counting_probabilities(id_windows):
        fed.append(np.array(id_windows))
        return probabilities(id_windows)

    def counting_encode(vocabulary, tokens):
        tokens = list(tokens)
        encoded.append(len(tokens))
        return encode(vocabulary, tokens)

    monkeypatch.setattr(tiny_model, "probabilities", counting_probabilities)
    monkeypatch.setattr(seqkit.Vocabulary, "encode", counting_encode)
    length = tiny_model.window_length
    for steps in (50, 500):
        fed.clear()
        encoded.clear()
        generated = tiny_model.generate("AB", steps)
        assert len(generated) == steps
        assert [window.shape for window in fed] == [(1, length)] * steps  # one window of L ids per step
        assert sum(encoded) == len("AB")  # the prime, once
        text = encode(tiny_model.vocabulary, ["A", "B", *generated])
        last_windows = [text[len("AB") + step - length : len("AB") + step] for step in range(steps)]
        assert [window[0].tolist() for window in fed] == last_windows
