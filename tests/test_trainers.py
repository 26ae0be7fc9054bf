"""Trainers: what each training strategy does, specified one behaviour at a time."""

from __future__ import annotations

import numpy as np
import pytest

import seqkit
from seqkit.callbacks import StopAtAccuracy
from seqkit.datasets import ALPHABET, Corpus
from seqkit.errors import ConfigurationError, DataError
from seqkit.trainers import (
    InBatchTrainer,
    RandomWindows,
    StatefulTrainer,
    StatelessTrainer,
    stream_indices,
)


def weights_of(model):
    return [w.copy() for w in model.network.get_weights()]


def test_the_same_seed_gives_bit_identical_weights():
    first, _ = StatelessTrainer(window=3, units=8, epochs=5, seed=3).fit(seqkit.alphabet())
    second, _ = StatelessTrainer(window=3, units=8, epochs=5, seed=3).fit(seqkit.alphabet())
    for a, b in zip(weights_of(first), weights_of(second), strict=True):
        np.testing.assert_array_equal(a, b)


def test_another_seed_gives_other_weights():
    first, _ = StatelessTrainer(window=3, units=8, epochs=2, seed=3).fit(seqkit.alphabet())
    second, _ = StatelessTrainer(window=3, units=8, epochs=2, seed=4).fit(seqkit.alphabet())
    assert not np.array_equal(weights_of(first)[0], weights_of(second)[0])


@pytest.mark.parametrize("encoding", ["onehot", "embedding"])
def test_one_char_reaches_100_percent_without_scaled_inputs(encoding):
    trainer = StatelessTrainer(window=1, units=32, epochs=500, encoding=encoding)
    model, _ = trainer.fit(seqkit.alphabet())
    windows = trainer.make_windows(seqkit.alphabet(), model.vocabulary)
    assert model.evaluate(windows).accuracy == 1.0


def test_in_batch_samples_predict_the_same_alone_as_inside_the_batch():
    trainer = InBatchTrainer(epochs=300)
    model, _ = trainer.fit(seqkit.alphabet())
    windows = trainer.make_windows(seqkit.alphabet(), model.vocabulary)
    inputs = model.layout.transform(windows.inputs, model.vocabulary.size)
    together = model.network(inputs).numpy()
    alone = np.concatenate([model.network(inputs[i : i + 1]).numpy() for i in range(len(inputs))])
    np.testing.assert_allclose(alone, together, rtol=0, atol=1e-6)


def test_in_batch_takes_the_whole_dataset_as_one_batch():
    _, history = InBatchTrainer(epochs=3).fit(seqkit.alphabet())
    assert history.steps == 3


def test_stateless_takes_one_step_per_batch_including_the_partial_last_one():
    _, history = StatelessTrainer(window=1, batch_size=10, epochs=2, units=4).fit(seqkit.alphabet())
    assert history.steps == 2 * 3


def test_stateful_model_repeats_itself_after_reset():
    model, _ = StatefulTrainer(units=8, epochs=2).fit(seqkit.alphabet())
    model.reset()
    first = [model.next_distribution("A"), model.next_distribution("B")]
    model.reset()
    second = [model.next_distribution("A"), model.next_distribution("B")]
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])


def test_stateful_model_carries_state_between_calls():
    model, _ = StatefulTrainer(units=8, epochs=2).fit(seqkit.alphabet())
    model.reset()
    first = model.next_distribution("A")
    again = model.next_distribution("A")
    assert not np.array_equal(first, again)


def test_stateful_model_trained_on_four_parallel_streams_generates_through_its_batch_one_copy():
    corpus = Corpus.from_sequences([ALPHABET] * 4, name="four alphabets")
    model, history = StatefulTrainer(units=50, epochs=300, batch_size=4, reset="boundary").fit(corpus)
    assert history.steps == 300 * 25
    assert model.network.input_shape[0] == 1
    model.reset()
    assert "".join(model.generate("A", 25)) == "BCDEFGHIJKLMNOPQRSTUVWXYZ"


def test_parallel_streams_continue_row_by_row():
    table = stream_indices(10, 3)
    assert table.tolist() == [[0, 4, 8], [1, 5, 9], [2, 6, -1], [3, 7, -1]]


@pytest.mark.parametrize(
    ("reset", "expected_first_column"),
    [
        ("epoch", [True] + [False] * 12),
        ("every:5", [i % 5 == 0 for i in range(13)]),
        ("never", [False] * 13),
        ("boundary", [True] + [False] * 12),
    ],
)
def test_reset_policy_decides_which_steps_reset_the_first_stream(reset, expected_first_column):
    corpus = Corpus.from_sequences([ALPHABET, ALPHABET])
    trainer = StatefulTrainer(reset=reset, batch_size=4)
    windows = trainer.make_windows(corpus, corpus.vocabulary())
    plan = trainer.epoch_plans(windows)(0)
    assert plan.reset_rows[:, 0].tolist() == expected_first_column


def test_boundary_policy_resets_a_stream_where_it_enters_the_next_sequence():
    corpus = Corpus.from_sequences([ALPHABET, ALPHABET])
    trainer = StatefulTrainer(reset="boundary", batch_size=4)
    windows = trainer.make_windows(corpus, corpus.vocabulary())
    plan = trainer.epoch_plans(windows)(0)
    # 50 windows in 4 streams of 13: stream 1 holds windows 13..25, the second sequence starts at 25.
    assert np.flatnonzero(plan.reset_rows[:, 1]).tolist() == [0, 12]


@pytest.mark.slow  # four trainings, ~5 s; never-against-every-epoch stays in the default run
def test_every_reset_policy_trains_and_each_trains_differently():
    """Each policy's resets reach the network: four policies, four different trained networks."""
    corpus = Corpus.from_sequences([ALPHABET, ALPHABET])
    trained = {}
    for reset in ["epoch", "boundary", "every:3", "never"]:
        model, history = StatefulTrainer(reset=reset, batch_size=4, units=4, epochs=2).fit(corpus)
        assert history.epochs == 2 and history.loss[-1] < history.loss[0], reset
        trained[reset] = np.concatenate([weight.ravel() for weight in model.network.get_weights()])
    names = list(trained)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            assert not np.array_equal(trained[first], trained[second]), (first, second)


def test_never_resetting_trains_differently_from_resetting_every_epoch():
    never, _ = StatefulTrainer(reset="never", units=8, epochs=3).fit(seqkit.alphabet())
    epoch, _ = StatefulTrainer(reset="epoch", units=8, epochs=3).fit(seqkit.alphabet())
    assert not np.array_equal(weights_of(never)[0], weights_of(epoch)[0])


def test_stop_at_accuracy_ends_training_early():
    stopper = StopAtAccuracy(1.0)
    _, history = StatelessTrainer(window=3, epochs=500, callbacks=[stopper]).fit(seqkit.alphabet())
    assert history.epochs < 500
    assert history.accuracy[-1] == 1.0
    assert stopper.stopped_epoch == history.epochs - 1


def test_training_prints_nothing(capfd):
    StatelessTrainer(window=3, units=4, epochs=2).fit(seqkit.alphabet())
    assert capfd.readouterr() == ("", "")


def test_fit_accepts_a_plain_string_and_a_token_list():
    model, _ = StatelessTrainer(units=4, epochs=1).fit(["do", "re", "mi", "do", "re"])
    assert model.vocabulary.tokens == ("do", "re", "mi")
    model, _ = StatelessTrainer(units=4, epochs=1).fit("abcab")
    assert model.vocabulary.tokens == ("a", "b", "c")


def test_random_windows_train_a_masked_model():
    model, _ = StatelessTrainer(window=RandomWindows(count=50, max_length=4), units=4, epochs=1).fit(
        seqkit.alphabet()
    )
    assert model.masked and model.window_length == 4


def test_trainer_repr_shows_its_hyperparameters():
    assert repr(StatefulTrainer(units=50)) == "StatefulTrainer(units=50)"


@pytest.mark.parametrize(
    ("trainer", "message"),
    [
        (StatelessTrainer(units=0), "The 'units' parameter of StatelessTrainer must be an int >= 1. Got 0 instead."),
        (StatelessTrainer(epochs=-1), "The 'epochs' parameter of StatelessTrainer must be an int >= 1. Got -1 instead."),
        (StatelessTrainer(batch_size=0), "The 'batch_size' parameter of StatelessTrainer must be an int >= 1. Got 0 instead."),
        (StatelessTrainer(window=0), "The 'window' parameter of StatelessTrainer must be an int >= 1. Got 0 instead."),
        (StatelessTrainer(stride=0), "The 'stride' parameter of StatelessTrainer must be None or an int >= 1. Got 0 instead."),
        (StatelessTrainer(layers=True), "The 'layers' parameter of StatelessTrainer must be an int >= 1. Got True instead."),
        (StatelessTrainer(dropout=1.0), "The 'dropout' parameter of StatelessTrainer must be a float in [0, 1). Got 1.0 instead."),
        (StatelessTrainer(learning_rate=0), "The 'learning_rate' parameter of StatelessTrainer must be a finite float > 0. Got 0 instead."),
        (StatelessTrainer(layout="grid"), "The 'layout' parameter of StatelessTrainer must be 'timesteps' or 'features'. Got 'grid' instead."),
        (StatelessTrainer(encoding="binary"), "The 'encoding' parameter of StatelessTrainer must be 'scaled', 'onehot' or 'embedding'. Got 'binary' instead."),
        (StatelessTrainer(seed=-1), "The 'seed' parameter of StatelessTrainer must be an int in [0, 4294967295]. Got -1 instead."),
        (StatelessTrainer(seed=2**32), "The 'seed' parameter of StatelessTrainer must be an int in [0, 4294967295]. Got 4294967296 instead."),
        (StatelessTrainer(learning_rate=float("inf")), "The 'learning_rate' parameter of StatelessTrainer must be a finite float > 0. Got inf instead."),
        (StatelessTrainer(shuffle="yes"), "The 'shuffle' parameter of StatelessTrainer must be True or False. Got 'yes' instead."),
        (StatelessTrainer(precision="float16"), "The 'precision' parameter of StatelessTrainer must be 'auto', 'float32', 'mixed_float16' or 'mixed_bfloat16'. Got 'float16' instead."),
        (StatelessTrainer(jit_compile="auto"), "The 'jit_compile' parameter of StatelessTrainer must be True or False. Got 'auto' instead."),
        (StatefulTrainer(reset="every:0"), "The reset interval k must be an int >= 1; got 0. Use e.g. 'every:4'."),
        (StatefulTrainer(reset="sometimes"), "Unknown reset policy 'sometimes': expected 'epoch', 'boundary', 'every:K' (K >= 1) or 'never'."),
        (StatefulTrainer(batch_size=30), "The 'batch_size' parameter of StatefulTrainer must be at most the number of training windows (25) so that every stream holds one. Got 30 instead."),
        (StatefulTrainer(window=RandomWindows()), "StatefulTrainer reads the corpus in order and cannot use RandomWindows; give an int window length, or use StatelessTrainer for random windows."),
    ],
)
def test_bad_hyperparameters_are_refused_with_a_clear_message(trainer, message):
    with pytest.raises(ConfigurationError) as error:
        trainer.fit(seqkit.alphabet())
    assert str(error.value) == message


def test_a_window_longer_than_the_corpus_is_refused():
    with pytest.raises(DataError) as error:
        StatelessTrainer(window=26).fit(seqkit.alphabet())
    assert str(error.value) == (
        "Window length 26 must be shorter than the sequence it slides over (26 tokens). "
        "Use a window length of at most 25, or a longer corpus."
    )


def test_unsupported_data_is_refused():
    with pytest.raises(DataError) as error:
        StatelessTrainer().fit(42)
    assert str(error.value) == (
        "Cannot train on a int: give a seqkit Corpus, a string, or a list of string tokens."
    )


def test_stateful_generation_with_windows_longer_than_one_is_refused():
    model, _ = StatefulTrainer(window=2, units=4, epochs=1).fit(seqkit.alphabet())
    with pytest.raises(ConfigurationError) as error:
        model.generate("AB", 3)
    assert str(error.value) == (
        "generate needs a stateful model that reads one token per step; this one reads windows "
        "of 2, and feeding back overlapping windows would read each token into the state several "
        "times. Train it with window=1 (the stateful default), or use predict_next on whole windows."
    )


@pytest.mark.parametrize("window, unrolled", [(3, True), (4, False)])
def test_windows_of_up_to_three_steps_train_with_the_lstm_unrolled_on_a_cpu(window, unrolled):
    trainer = StatelessTrainer(window=window, units=4, epochs=1, batch_size=5)
    model, _ = trainer.fit(seqkit.alphabet())
    if model.spec["policy"]["device"] != "cpu":
        pytest.skip("unrolling is chosen on a CPU only")
    assert model.spec["policy"]["unroll"] is unrolled
    assert [layer.unroll for layer in model.network.layers if hasattr(layer, "unroll")] == [unrolled]
