"""Specification of seqkit.windows: (input window, next id) pairs cut from id sequences."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from seqkit.errors import ConfigurationError, DataError
from seqkit.windows import PADDING_ID, Windows, random_windows, sliding_windows


def raises_exactly(error_type, message):
    return pytest.raises(error_type, match=f"^{re.escape(message)}$")


def tutorial_variable_length_draw(num_inputs: int, max_len: int) -> tuple[list[list[int]], list[int]]:
    """The origin tutorial's variable-length loop, run on the global generator as it does."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    char_to_int = dict((c, i) for i, c in enumerate(alphabet))
    saved = np.random.get_state()
    try:
        np.random.seed(7)
        dataX = []
        dataY = []
        for _ in range(num_inputs):
            start = np.random.randint(len(alphabet) - 2)
            end = np.random.randint(start, min(start + max_len, len(alphabet) - 1))
            sequence_in = alphabet[start : end + 1]
            sequence_out = alphabet[end + 1]
            dataX.append([char_to_int[char] for char in sequence_in])
            dataY.append(char_to_int[sequence_out])
    finally:
        np.random.set_state(saved)
    return dataX, dataY


# The tutorial's arrays ---------------------------------------------------------------
def test_length_3_over_the_alphabet_gives_the_tutorials_23_pairs(alphabet_ids, tutorial_dataset):
    dataX, dataY = tutorial_dataset(3)
    windows = sliding_windows(alphabet_ids, length=3)
    assert len(windows) == 23
    assert windows.inputs.tolist() == dataX
    assert windows.targets.tolist() == dataY


def test_length_1_over_the_alphabet_gives_the_tutorials_25_pairs(alphabet_ids, tutorial_dataset):
    dataX, dataY = tutorial_dataset(1)
    windows = sliding_windows(alphabet_ids, length=1)
    assert len(windows) == 25
    assert windows.inputs.tolist() == dataX
    assert windows.targets.tolist() == dataY


def test_random_windows_reproduce_the_tutorials_variable_length_draw():
    from keras.utils import pad_sequences

    dataX, dataY = tutorial_variable_length_draw(num_inputs=1000, max_len=5)
    windows = random_windows(range(26), 1000, 5, seed=7)
    expected_inputs = pad_sequences(dataX, maxlen=5, dtype="int32", value=PADDING_ID)
    np.testing.assert_array_equal(windows.inputs, expected_inputs)
    assert windows.targets.tolist() == dataY
    assert windows.lengths.tolist() == [len(x) for x in dataX]


def test_random_windows_first_samples_are_the_tutorials(alphabet_text):
    windows = random_windows(range(26), 1000, 5, seed=7)
    samples = [
        "".join(alphabet_text[i] for i in row if i != PADDING_ID) + "->" + alphabet_text[target]
        for row, target in zip(windows.inputs[:5], windows.targets[:5])
    ]
    assert samples == ["PQRST->U", "W->X", "O->P", "OPQ->R", "IJKLM->N"]


def test_random_windows_pad_at_the_front_with_minus_one_not_the_id_of_a():
    windows = random_windows(range(26), 3, 5, seed=7)
    assert windows.inputs[1].tolist() == [-1, -1, -1, -1, 22]


def test_random_windows_leave_the_global_generator_alone():
    np.random.seed(123)
    expected = np.random.randint(1000)
    np.random.seed(123)
    random_windows(range(26), 10, 5, seed=7)
    assert np.random.randint(1000) == expected


def test_random_windows_with_the_same_seed_are_the_same():
    first, second = (random_windows(range(26), 50, 4, seed=3) for _ in range(2))
    np.testing.assert_array_equal(first.inputs, second.inputs)


# Sliding windows ---------------------------------------------------------------------
def test_stride_skips_window_starts():
    windows = sliding_windows(list(range(7)), length=2, stride=2)
    assert (windows.inputs.tolist(), windows.targets.tolist()) == ([[0, 1], [2, 3], [4, 5]], [2, 4, 6])


def test_sliding_windows_have_their_full_length_and_no_padding(alphabet_ids):
    windows = sliding_windows(alphabet_ids, length=3)
    assert set(windows.lengths.tolist()) == {3}
    assert not windows.padding_mask.any()


def test_arrays_are_int32(alphabet_ids):
    windows = sliding_windows(alphabet_ids, length=3)
    assert {array.dtype for array in (windows.inputs, windows.targets, windows.lengths, windows.sequence_ids)} == {
        np.dtype(np.int32)
    }


def test_several_sequences_are_windowed_separately_and_no_window_crosses_a_boundary():
    windows = sliding_windows([[0, 1, 2, 3], [10, 11, 12]], length=2)
    assert windows.inputs.tolist() == [[0, 1], [1, 2], [10, 11]]
    assert windows.targets.tolist() == [2, 3, 12]
    assert windows.sequence_ids.tolist() == [0, 0, 1]


def test_one_sequence_has_sequence_id_zero(alphabet_ids):
    assert set(sliding_windows(alphabet_ids, length=2).sequence_ids.tolist()) == {0}


def test_ids_may_be_a_range_a_list_or_an_array():
    expected = sliding_windows(np.arange(6), length=2).inputs.tolist()
    assert sliding_windows(range(6), length=2).inputs.tolist() == expected
    assert sliding_windows(list(range(6)), length=2).inputs.tolist() == expected


@given(
    size=st.integers(2, 80),
    data=st.data(),
)
def test_window_count_is_n_minus_length_minus_one_over_stride_plus_one(size, data):
    length = data.draw(st.integers(1, size - 1), label="length")
    stride = data.draw(st.integers(1, 12), label="stride")
    windows = sliding_windows(np.arange(size), length=length, stride=stride)
    assert len(windows) == (size - length - 1) // stride + 1


@given(size=st.integers(2, 60), data=st.data())
def test_each_window_is_a_slice_of_the_sequence_and_its_target_the_next_id(size, data):
    length = data.draw(st.integers(1, size - 1), label="length")
    stride = data.draw(st.integers(1, 6), label="stride")
    ids = data.draw(st.lists(st.integers(0, 50), min_size=size, max_size=size), label="ids")
    windows = sliding_windows(ids, length=length, stride=stride)
    for number, (row, target) in enumerate(zip(windows.inputs.tolist(), windows.targets.tolist())):
        start = number * stride
        assert (row, target) == (ids[start : start + length], ids[start + length])


@given(count=st.integers(1, 60), max_length=st.integers(1, 8), size=st.integers(3, 40), seed=st.integers(0, 999))
def test_random_windows_pad_exactly_the_positions_before_the_true_length(count, max_length, size, seed):
    windows = random_windows(np.arange(size), count, max_length, seed=seed)
    assert windows.inputs.shape == (count, max_length)
    assert ((windows.lengths >= 1) & (windows.lengths <= max_length)).all()
    positions = np.arange(max_length)
    expected_mask = positions[None, :] < (max_length - windows.lengths)[:, None]
    np.testing.assert_array_equal(windows.padding_mask, expected_mask)


@given(count=st.integers(1, 40), max_length=st.integers(1, 8), size=st.integers(3, 40), seed=st.integers(0, 999))
def test_random_windows_are_consecutive_ids_followed_by_their_target(count, max_length, size, seed):
    ids = np.arange(size) * 3 + 1  # any ids >= 0, distinct so positions are recoverable
    windows = random_windows(ids, count, max_length, seed=seed)
    for row, length, target in zip(windows.inputs, windows.lengths, windows.targets):
        real = row[max_length - length :]
        start = int(np.flatnonzero(ids == real[0])[0])
        np.testing.assert_array_equal(real, ids[start : start + length])
        assert target == ids[start + length]


# The Windows value -------------------------------------------------------------------
def test_window_length_is_the_width_of_the_inputs(alphabet_ids):
    assert sliding_windows(alphabet_ids, length=4).window_length == 4


def test_padding_mask_marks_padding_ids():
    windows = Windows(
        inputs=np.array([[-1, 3], [1, 2]], dtype=np.int32),
        lengths=np.array([1, 2], dtype=np.int32),
        targets=np.array([4, 3], dtype=np.int32),
        sequence_ids=np.zeros(2, dtype=np.int32),
    )
    assert windows.padding_mask.tolist() == [[True, False], [False, False]]


def test_subset_keeps_the_rows_at_the_indices_in_that_order(alphabet_ids):
    windows = sliding_windows(alphabet_ids, length=2).subset([3, 0])
    assert (windows.inputs.tolist(), windows.targets.tolist()) == ([[3, 4], [0, 1]], [5, 2])


def test_windows_refuse_inputs_and_targets_of_different_counts():
    with raises_exactly(
        DataError, "Windows need inputs of shape (n, L) and targets of shape (n,); got inputs (2, 3) and targets (3,)."
    ):
        Windows(np.zeros((2, 3)), np.zeros(3), np.zeros(3), np.zeros(3))


def test_windows_refuse_lengths_of_the_wrong_shape():
    with raises_exactly(DataError, "Windows need lengths and sequence_ids of shape (2,); got (3,) and (2,)."):
        Windows(np.zeros((2, 3)), np.zeros(3), np.zeros(2), np.zeros(2))


# Bad input ---------------------------------------------------------------------------
def test_empty_corpus_is_refused():
    with raises_exactly(
        DataError,
        "Sequence 0 is empty: cannot cut windows from an empty corpus. Give at least length + 1 tokens.",
    ):
        sliding_windows([], length=1)


def test_window_length_equal_to_the_sequence_length_is_refused():
    with raises_exactly(
        DataError,
        "Window length 26 must be shorter than the sequence it slides over (26 tokens). "
        "Use a window length of at most 25, or a longer corpus.",
    ):
        sliding_windows(range(26), length=26)


def test_window_length_longer_than_one_of_several_sequences_names_that_sequence():
    with raises_exactly(
        DataError,
        "Window length 3 must be shorter than the sequence it slides over (3 tokens in sequence 1). "
        "Use a window length of at most 2, or a longer corpus.",
    ):
        sliding_windows([[0, 1, 2, 3, 4], [5, 6, 7]], length=3)


@pytest.mark.parametrize("length", [0, -2, True, 2.0])
def test_length_must_be_a_positive_integer(length):
    with raises_exactly(
        ConfigurationError, f"The 'length' parameter of sliding_windows must be an int >= 1. Got {length!r} instead."
    ):
        sliding_windows(range(26), length=length)


@pytest.mark.parametrize("stride", [0, -1])
def test_stride_must_be_a_positive_integer(stride):
    with raises_exactly(
        ConfigurationError, f"The 'stride' parameter of sliding_windows must be an int >= 1. Got {stride} instead."
    ):
        sliding_windows(range(26), length=3, stride=stride)


def test_negative_ids_are_refused_so_they_cannot_pass_for_padding():
    with raises_exactly(
        DataError,
        "Ids must be vocabulary ids >= 0; got -1 at position 2 of sequence 0. "
        "Encode tokens with Vocabulary.encode (padding is added by the windows).",
    ):
        sliding_windows([0, 1, -1, 2], length=2)


def test_random_windows_refuse_negative_ids():
    with raises_exactly(
        DataError,
        "Ids must be vocabulary ids >= 0; got -3 at position 0 of sequence 0. "
        "Encode tokens with Vocabulary.encode (padding is added by the windows).",
    ):
        random_windows([-3, 1, 2, 3], 2, 2)


@pytest.mark.parametrize(("name", "arguments"), [("count", (0, 5)), ("max_length", (10, 0))])
def test_random_windows_count_and_max_length_must_be_positive(name, arguments):
    with raises_exactly(
        ConfigurationError, f"The '{name}' parameter of random_windows must be an int >= 1. Got 0 instead."
    ):
        random_windows(range(26), *arguments)


def test_random_windows_need_at_least_three_ids():
    with raises_exactly(
        DataError, "random_windows needs a sequence of at least 3 ids to sample from; got 2. Use a longer corpus."
    ):
        random_windows([0, 1], 5, 2)


def test_random_windows_sample_from_one_sequence_only():
    with raises_exactly(
        DataError, "random_windows samples from one id sequence; got several. Concatenate them first."
    ):
        random_windows([[0, 1, 2], [3, 4, 5]], 5, 2)
