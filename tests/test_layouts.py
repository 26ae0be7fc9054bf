"""Specification of seqkit.layouts: how windows of ids become the tensors an LSTM reads.

The contract suite at the top runs against every layout and encoding; the
tests below it pin what differs between them.
"""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from seqkit.errors import ConfigurationError, DataError, LayoutError
from seqkit.layouts import ENCODINGS, SCALED_PADDING, Features, Layout, TimeSteps, make_layout
from seqkit.models import ModelSpec, build_model
from seqkit.windows import PADDING_ID, random_windows, sliding_windows

LAYOUT_CLASSES = (TimeSteps, Features)
ALL_LAYOUTS = [cls(encoding) for cls in LAYOUT_CLASSES for encoding in ENCODINGS]
VOCABULARY_SIZE = 26
WINDOW_LENGTH = 5


def raises_exactly(error_type, message):
    return pytest.raises(error_type, match=f"^{re.escape(message)}$")


def per_token(layout: Layout, transformed: np.ndarray, window_length: int) -> np.ndarray:
    """View any layout's output as ``(n, L, F)``: one encoded vector per window position."""
    return transformed.reshape(len(transformed), window_length, -1)


@pytest.fixture(params=ALL_LAYOUTS, ids=repr)
def layout(request) -> Layout:
    return request.param


@pytest.fixture
def padded_inputs() -> np.ndarray:
    """Windows of 1 to 5 letters, front-padded: the tutorial's variable-length draw."""
    return random_windows(range(VOCABULARY_SIZE), count=12, max_length=WINDOW_LENGTH, seed=7).inputs


# The contract every layout passes ----------------------------------------------------
def test_output_shape_is_input_shape_with_the_batch_axis(layout, padded_inputs):
    transformed = layout.transform(padded_inputs, vocabulary_size=VOCABULARY_SIZE)
    assert transformed.shape == (len(padded_inputs), *layout.input_shape(WINDOW_LENGTH, VOCABULARY_SIZE))


def test_output_dtype_is_input_dtype(layout, padded_inputs):
    transformed = layout.transform(padded_inputs, vocabulary_size=VOCABULARY_SIZE)
    assert transformed.dtype == np.dtype(layout.input_dtype)


def test_padding_positions_take_the_padding_value(layout, padded_inputs):
    transformed = per_token(layout, layout.transform(padded_inputs, VOCABULARY_SIZE), WINDOW_LENGTH)
    padded = transformed[padded_inputs == PADDING_ID]
    assert padded.size and (padded == layout.padding_value).all()


def test_padding_differs_from_every_real_tokens_encoding(layout):
    every_token = np.arange(VOCABULARY_SIZE)[:, None]
    encoded = per_token(layout, layout.transform(every_token, VOCABULARY_SIZE), 1)[:, 0]
    assert not (encoded == layout.padding_value).all(axis=-1).any()


def test_get_config_round_trips_through_make_layout(layout):
    rebuilt = make_layout(layout.get_config())
    assert (type(rebuilt), rebuilt, rebuilt.get_config()) == (type(layout), layout, layout.get_config())


def test_a_masked_model_built_for_the_layout_accepts_its_output(layout, padded_inputs):
    transformed = layout.transform(padded_inputs, vocabulary_size=VOCABULARY_SIZE)
    model = build_model(
        ModelSpec(units=4, embedding_dim=4, masked=True),
        layout,
        window_length=WINDOW_LENGTH,
        vocabulary_size=VOCABULARY_SIZE,
    )
    probabilities = model.predict(transformed, verbose=0)
    assert probabilities.shape == (len(padded_inputs), VOCABULARY_SIZE)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("layout_class", LAYOUT_CLASSES, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("encoding", ENCODINGS)
@given(data=st.data())
def test_padding_is_never_a_real_tokens_encoding_for_any_vocabulary(layout_class, encoding, data):
    layout = layout_class(encoding)
    vocabulary_size = data.draw(st.integers(1, 40), label="vocabulary_size")
    window_length = data.draw(st.integers(1, 6), label="window_length")
    ids = np.array(
        data.draw(
            st.lists(
                st.lists(st.integers(PADDING_ID, vocabulary_size - 1), min_size=window_length, max_size=window_length),
                min_size=1,
                max_size=8,
            ),
            label="ids",
        )
    )
    encoded = per_token(layout, layout.transform(ids, vocabulary_size), window_length)
    is_padding_value = (encoded == layout.padding_value).all(axis=-1)
    np.testing.assert_array_equal(is_padding_value, ids == PADDING_ID)


# The tutorial's arrays ---------------------------------------------------------------
def test_timesteps_scaled_is_the_tutorials_time_step_reshape(alphabet_ids, tutorial_dataset):
    dataX, _ = tutorial_dataset(3)
    expected = np.reshape(dataX, (23, 3, 1)) / 26
    transformed = TimeSteps("scaled").transform(sliding_windows(alphabet_ids, 3).inputs, vocabulary_size=26)
    np.testing.assert_array_equal(transformed, expected.astype(np.float32))


def test_features_scaled_is_the_tutorials_feature_reshape(alphabet_ids, tutorial_dataset):
    dataX, _ = tutorial_dataset(3)
    expected = np.reshape(dataX, (23, 1, 3)) / 26
    transformed = Features("scaled").transform(sliding_windows(alphabet_ids, 3).inputs, vocabulary_size=26)
    np.testing.assert_array_equal(transformed, expected.astype(np.float32))


def test_length_one_timesteps_scaled_is_the_tutorials_first_experiment(alphabet_ids, tutorial_dataset):
    dataX, _ = tutorial_dataset(1)
    expected = np.reshape(dataX, (25, 1, 1)) / float(26)
    transformed = TimeSteps("scaled").transform(sliding_windows(alphabet_ids, 1).inputs, vocabulary_size=26)
    np.testing.assert_array_equal(transformed, expected.astype(np.float32))


# Encodings ---------------------------------------------------------------------------
def test_scaled_encoding_is_id_over_vocabulary_size_and_minus_one_for_padding():
    transformed = TimeSteps("scaled").transform(np.array([[-1, 0, 13]]), vocabulary_size=26)
    assert transformed.ravel().tolist() == [SCALED_PADDING, 0.0, 0.5]


def test_onehot_encoding_is_a_unit_vector_and_zeros_for_padding():
    transformed = TimeSteps("onehot").transform(np.array([[-1, 2]]), vocabulary_size=3)
    assert transformed.tolist() == [[[0.0, 0.0, 0.0], [0.0, 0.0, 1.0]]]


def test_embedding_encoding_shifts_ids_by_one_so_zero_is_padding():
    transformed = TimeSteps("embedding").transform(np.array([[-1, 0, 25]]), vocabulary_size=26)
    assert transformed.tolist() == [[0, 1, 26]]


def test_features_lays_the_tokens_encodings_side_by_side_in_window_order():
    transformed = Features("onehot").transform(np.array([[1, 0]]), vocabulary_size=2)
    assert transformed.tolist() == [[[0.0, 1.0, 1.0, 0.0]]]


def test_features_and_timesteps_hold_the_same_values():
    inputs = random_windows(range(26), count=6, max_length=4, seed=1).inputs
    for encoding in ("scaled", "onehot"):
        np.testing.assert_array_equal(
            Features(encoding).transform(inputs, 26).ravel(), TimeSteps(encoding).transform(inputs, 26).ravel()
        )


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        (TimeSteps("scaled"), (3, 1)),
        (TimeSteps("onehot"), (3, 26)),
        (TimeSteps("embedding"), (3,)),
        (Features("scaled"), (1, 3)),
        (Features("onehot"), (1, 78)),
        (Features("embedding"), (3,)),
    ],
    ids=repr,
)
def test_input_shape_of_each_layout_for_three_letter_windows(layout, expected):
    assert layout.input_shape(window_length=3, vocabulary_size=26) == expected


@pytest.mark.parametrize(("encoding", "padding_value"), [("scaled", -1.0), ("onehot", 0.0), ("embedding", 0)])
def test_padding_value_of_each_encoding(encoding, padding_value):
    assert TimeSteps(encoding).padding_value == padding_value


@pytest.mark.parametrize(("encoding", "dtype"), [("scaled", "float32"), ("onehot", "float32"), ("embedding", "int32")])
def test_input_dtype_of_each_encoding(encoding, dtype):
    assert Features(encoding).input_dtype == dtype


def test_only_timesteps_can_mask_padding():
    assert (TimeSteps().masks_padding, Features().masks_padding) == (True, False)


def test_default_encoding_is_scaled():
    assert (TimeSteps().encoding, Features().encoding) == ("scaled", "scaled")


# make_layout and value semantics -----------------------------------------------------
def test_make_layout_from_a_name_and_an_encoding():
    assert make_layout("features", "onehot") == Features("onehot")


def test_make_layout_from_a_name_defaults_to_scaled():
    assert make_layout("timesteps") == TimeSteps("scaled")


def test_make_layout_returns_a_layout_unchanged():
    layout = TimeSteps("onehot")
    assert make_layout(layout) is layout


def test_layouts_are_equal_by_class_and_encoding():
    assert TimeSteps("onehot") == TimeSteps("onehot")
    assert hash(TimeSteps("onehot")) == hash(TimeSteps("onehot"))
    assert TimeSteps("onehot") != Features("onehot")
    assert TimeSteps("onehot") != TimeSteps("scaled")


def test_repr_reads_as_the_constructor_call():
    assert repr(Features("embedding")) == "Features('embedding')"


# Bad input ---------------------------------------------------------------------------
def test_unknown_encoding_is_refused():
    with raises_exactly(LayoutError, "Unknown encoding 'binary': expected one of 'scaled', 'onehot', 'embedding'."):
        TimeSteps("binary")


def test_unknown_layout_name_is_refused():
    with raises_exactly(LayoutError, "Unknown layout 'columns': expected 'timesteps' or 'features'."):
        make_layout("columns")


def test_config_without_a_layout_name_is_refused():
    with raises_exactly(LayoutError, "Unknown layout None: expected 'timesteps' or 'features'."):
        make_layout({"encoding": "scaled"})


def test_ids_outside_the_vocabulary_are_refused():
    with raises_exactly(
        DataError,
        "Id 26 is outside the vocabulary's range 0 to 25; encode tokens with the same vocabulary the layout is given.",
    ):
        TimeSteps("onehot").transform(np.array([[0, 26]]), vocabulary_size=26)


def test_negative_ids_other_than_padding_are_refused():
    with raises_exactly(
        DataError,
        "Id -2 is outside the vocabulary's range 0 to 25; encode tokens with the same vocabulary the layout is given.",
    ):
        TimeSteps("scaled").transform(np.array([[-2, 3]]), vocabulary_size=26)


def test_inputs_must_be_two_dimensional():
    with raises_exactly(DataError, "A layout transforms windows of shape (n, L); got shape (3,)."):
        Features("scaled").transform(np.array([0, 1, 2]), vocabulary_size=26)


def test_vocabulary_size_must_be_positive():
    with raises_exactly(
        ConfigurationError, "The 'vocabulary_size' parameter of TimeSteps.transform must be an int >= 1. Got 0 instead."
    ):
        TimeSteps("scaled").transform(np.array([[-1]]), vocabulary_size=0)


@pytest.mark.parametrize("dropout", [float("nan"), float("inf"), -0.1, 1.0, True])
def test_model_spec_refuses_a_dropout_outside_zero_to_one(dropout):
    with raises_exactly(
        ConfigurationError, f"The 'dropout' parameter of ModelSpec must be a float in [0, 1). Got {dropout!r} instead."
    ):
        ModelSpec(dropout=dropout)
