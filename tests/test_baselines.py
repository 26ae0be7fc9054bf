"""Specification of seqkit.baselines: the n-gram and compressor scores a model is compared with."""

import math
import random
import re
import string

import numpy as np
import pytest

from seqkit.baselines import FALLBACK_DISCOUNTS, BaselineScore, KneserNey, compressor, kneser_ney, modified_discounts
from seqkit.corpora import sample_text
from seqkit.errors import ConfigurationError, DataError, NotFittedError
from seqkit.splits import holdout_split

A, B, C, D, E = range(5)


def raises_exactly(error_type, message):
    return pytest.raises(error_type, match=f"^{re.escape(message)}$")


@pytest.fixture(scope="module")
def sample_split():
    """The bundled sample text as ids: (training documents, test documents, vocabulary size)."""
    corpus = sample_text()
    vocabulary = corpus.vocabulary()
    train, test = holdout_split(corpus, 0.2)
    return [vocabulary.encode(s) for s in train.sequences], [vocabulary.encode(s) for s in test.sequences], vocabulary.size


# The distribution ---------------------------------------------------------------------
@pytest.mark.parametrize("order", [1, 3, 7])
def test_next_token_probabilities_sum_to_one_after_any_context(sample_split, order):
    train, test, size = sample_split
    model = KneserNey(order).fit(train, size + 3)  # three ids the training text never holds
    seen = list(train[0][:40])
    contexts = [[], seen[:1], seen[:order], seen, [size, size + 1, size + 2], seen[:5] + [size + 2], test[0][:30]]
    for context in contexts:
        probabilities = model.probabilities(context)
        assert probabilities.shape == (size + 3,)
        assert abs(probabilities.sum() - 1.0) < 1e-9
        assert probabilities.min() > 0.0


def test_order_2_matches_a_hand_computation():
    # Training "abab" (a=0, b=1, c=2): after BOS, bigrams BOS-a 1, a-b 2, b-a 1; every order
    # has no n-gram seen 3 times, so both take the fallback discounts D1=.5, D2=1, D3+=1.5.
    # Unigrams count distinct left neighbours: a {BOS, b} 2, b {a} 1, c 0; total 3.
    #   gamma = (D2 + D1) / 3 = 1/2, so p1 = (a: (2-1)/3 + 1/6, b: (1-.5)/3 + 1/6, c: 1/6).
    p1 = [1 / 2, 1 / 3, 1 / 6]
    # After "a": only a-b, twice: p(w|a) = max(c - D, 0) / 2 + (D2 / 2) * p1(w).
    after_a = [0.5 * p1[0], (2 - 1) / 2 + 0.5 * p1[1], 0.5 * p1[2]]
    # After "b" (and at the start, BOS): one n-gram seen once: (1 - .5) / 1 + (.5 / 1) * p1.
    after_b = [0.5 + 0.5 * p1[0], 0.5 * p1[1], 0.5 * p1[2]]
    model = KneserNey(order=2).fit([[A, B, A, B]], vocabulary_size=3)
    assert model.discounts_.tolist() == [list(FALLBACK_DISCOUNTS)] * 2
    np.testing.assert_allclose(model.probabilities([A]), after_a, rtol=1e-12)
    np.testing.assert_allclose(model.probabilities([B]), after_b, rtol=1e-12)
    np.testing.assert_allclose(model.probabilities([]), after_b, rtol=1e-12)
    np.testing.assert_allclose(model.probabilities([C]), p1, rtol=1e-12)  # c was never a context
    expected_bits = -(math.log2(after_b[A]) + math.log2(after_a[B]) + math.log2(after_b[C])) / 3
    assert model.score([[A, B, C]]) == BaselineScore("Kneser-Ney 2-gram", pytest.approx(expected_bits), 3, "token")


def test_order_1_uses_chen_and_goodmans_discounts():
    # "abbcccdddd": counts 1, 2, 3, 4, one n-gram each, so Y = 1/3 and
    # D1 = 1 - 2/3, D2 = 2 - 3 (1/3) = 1, D3+ = 3 - 4 (1/3) = 5/3; 10 tokens in all.
    d1, d2, d3 = 1 / 3, 1.0, 5 / 3
    uniform = (d1 + d2 + d3 + d3) / 10 / 5  # gamma spread over 5 ids, e never seen
    expected = [(1 - d1) / 10 + uniform, (2 - d2) / 10 + uniform, (3 - d3) / 10 + uniform, (4 - d3) / 10 + uniform, uniform]
    model = KneserNey(order=1).fit([[A, B, B, C, C, C, D, D, D, D]], vocabulary_size=5)
    np.testing.assert_allclose(model.discounts_[0], [d1, d2, d3], rtol=1e-12)
    np.testing.assert_allclose(model.probabilities([A, B]), expected, rtol=1e-12)


def test_discounts_fall_back_where_count_of_counts_leave_them_undefined():
    assert modified_discounts(np.array([1, 1, 2, 3])) == FALLBACK_DISCOUNTS  # nothing seen 4 times
    assert modified_discounts(np.array([1, 2, 3, 3, 3, 3, 3, 4])) == FALLBACK_DISCOUNTS  # D2 = 2 - 3 (1/3) 5 < 0


# Documents ----------------------------------------------------------------------------
def test_contexts_never_cross_from_one_training_document_into_the_next():
    one_document = KneserNey(order=2).fit([[A, B, C, D]], vocabulary_size=5)
    two_documents = KneserNey(order=2).fit([[A, B], [C, D]], vocabulary_size=5)
    assert one_document.probabilities([B]).argmax() == C
    # In two documents "b" ends the first and is followed by nothing: as an unseen context.
    np.testing.assert_array_equal(two_documents.probabilities([B]), two_documents.probabilities([E]))


def test_every_document_starts_from_the_beginning_of_document_context():
    model = KneserNey(order=3).fit([[A, B, C], [A, C, B], [A, B, B]], vocabulary_size=3)
    assert model.probabilities([]).argmax() == A
    assert model.probabilities([C, B, C]).argmax() != A


def test_test_documents_are_scored_independently():
    model = KneserNey(order=3).fit([[A, B, C, A, B, C, A]], vocabulary_size=3)
    first, second = model.score([[A, B, C]]), model.score([[C, C, B, A]])
    both = model.score([[A, B, C], [C, C, B, A]])
    assert both.tokens == 7
    assert both.bits_per_token == pytest.approx((3 * first.bits_per_token + 4 * second.bits_per_token) / 7)


# Against the simplest baselines -------------------------------------------------------
def test_a_5_gram_beats_a_1_gram_and_the_uniform_distribution_on_the_sample_text(sample_split):
    train, test, size = sample_split
    five = kneser_ney(train, test, vocabulary_size=size, order=5)
    one = kneser_ney(train, test, vocabulary_size=size, order=1)
    assert five.bits_per_token < one.bits_per_token - 1.0 < math.log2(size) - 1.0
    assert (five.name, five.tokens, five.unit) == ("Kneser-Ney 5-gram", sum(map(len, test)), "token")


# Compressors ----------------------------------------------------------------------------
def test_lzma_spends_far_fewer_bits_on_a_test_text_that_repeats_the_training_text():
    text = "".join(sample_text().sequences[0])
    fresh = "".join(random.Random(0).choices(sorted(set(text)), k=len(text)))
    repeated_bits = compressor(text, text).bits_per_token
    assert repeated_bits < compressor(text, fresh).bits_per_token / 20
    assert compressor(text, text) == BaselineScore("lzma", repeated_bits, len(text), "character")


def test_lzma_conditions_on_the_whole_training_text_and_bz2_only_on_its_last_block():
    train = "".join(random.Random(1).choices(string.ascii_lowercase, k=1_200_000))
    start = train[:2000]  # more than 900 kB before the end of the training text
    assert compressor(train, start, method="lzma").bits_per_token < 0.2
    assert compressor(train, start, method="bz2").bits_per_token > 4.0  # about log2(26): fresh


# Bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fit", "message"),
    [
        (lambda: KneserNey(order=0).fit([[A]], 2), "The 'order' parameter of KneserNey must be an int >= 1. Got 0 instead."),
        (lambda: KneserNey().fit([[A]], 0), "The 'vocabulary_size' parameter of KneserNey.fit must be an int >= 1. Got 0 instead."),
    ],
)
def test_a_bad_order_or_vocabulary_size_is_refused(fit, message):
    with raises_exactly(ConfigurationError, message):
        fit()


def test_an_id_outside_the_vocabulary_is_refused_with_its_position():
    with raises_exactly(
        DataError,
        "Sequence 1 of the training data holds id 3 at position 2, outside the vocabulary's ids 0 .. 2. "
        "Encode it with the model's vocabulary, or fit with a larger vocabulary_size.",
    ):
        KneserNey(2).fit([[A, B], [A, B, 3]], vocabulary_size=3)


def test_a_test_id_outside_the_vocabulary_is_refused():
    model = KneserNey(2).fit([[A, B]], vocabulary_size=2)
    with raises_exactly(
        DataError,
        "Sequence 0 of the test data holds id -1 at position 0, outside the vocabulary's ids 0 .. 1. "
        "Encode it with the model's vocabulary, or fit with a larger vocabulary_size.",
    ):
        model.score([[-1]])


def test_empty_test_data_is_refused():
    model = KneserNey(2).fit([[A, B]], vocabulary_size=2)
    with raises_exactly(
        DataError, "The test data holds no tokens: there is nothing to score. Give at least one non-empty sequence."
    ):
        model.score([[], []])


def test_a_flat_list_of_ids_is_refused_as_documents():
    with raises_exactly(
        DataError,
        "Sequence 0 of the training data is 0, not a sequence of ids. "
        "Give a list of documents, each a list of ids: [[3, 1, 4]], not [3, 1, 4].",
    ):
        KneserNey(2).fit([A, B], vocabulary_size=2)


def test_non_integer_ids_are_refused():
    with raises_exactly(
        DataError,
        "Sequence 0 of the training data is not a flat sequence of integer ids (shape (2,), float64). "
        "Encode the text with a Vocabulary first.",
    ):
        KneserNey(2).fit([[0.0, 1.0]], vocabulary_size=2)


def test_an_unfitted_model_says_to_fit_first():
    with raises_exactly(
        NotFittedError, "KneserNey.probabilities needs a fitted model: call fit(sequences, vocabulary_size) first."
    ):
        KneserNey().probabilities([A])


def test_an_unknown_compressor_is_refused():
    with raises_exactly(
        ConfigurationError, "The 'method' parameter of compressor must be one of 'lzma', 'bz2'. Got 'zip' instead."
    ):
        compressor("train", "test", method="zip")


def test_an_empty_compressor_test_text_is_refused():
    with raises_exactly(
        DataError, "compressor's test_text is empty: there is nothing to score. Give a non-empty text."
    ):
        compressor("train", "")
