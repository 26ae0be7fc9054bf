"""Specification of seqkit.engine: the compiled training loop."""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest

from seqkit.engine import EpochPlan, TrainingLoop, shuffled_plan, stateful_batch_size
from seqkit.errors import ConfigurationError, DataError

CLASSES = 5
TOLERANCE = 1e-5


def letters(count: int, time_steps: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Scaled-id windows -> next id, like the tutorial's alphabet data."""
    ids = np.arange(count + time_steps) % CLASSES
    inputs = np.stack([ids[i : i + time_steps] for i in range(count)]) / CLASSES
    return inputs.astype("float32")[..., None], ids[time_steps:]


def stateless_model(seed: int = 1, units: int = 4) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((1, 1)),
            keras.layers.LSTM(units),
            keras.layers.Dense(CLASSES, activation="softmax"),
        ]
    )


def stateful_model(batch: int, seed: int = 1, units: int = 4) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input(batch_shape=(batch, 1, 1)),
            keras.layers.LSTM(units, stateful=True),
            keras.layers.Dense(CLASSES, activation="softmax"),
        ]
    )


def keras_twin(model: keras.Model, learning_rate: float = 0.001) -> keras.Model:
    """A compiled copy of ``model`` with the same weights, trained by plain Keras fit."""
    twin = keras.models.clone_model(model)
    twin.set_weights(model.get_weights())
    twin.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=False,
    )
    return twin


def lstm_state(model: keras.Model) -> list[np.ndarray]:
    return [np.array(v.numpy()) for v in model.layers[0].states]


def assert_same_weights(left: keras.Model, right: keras.Model, atol: float = TOLERANCE) -> None:
    for a, b in zip(left.get_weights(), right.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=atol, rtol=0)


# --------------------------------------------------------------------- plans
def test_shuffled_plan_has_keras_fit_batches_with_a_padded_partial_last_batch() -> None:
    plan = shuffled_plan(7, 3, seed=0, epoch=0, shuffle=False)
    assert plan.indices.tolist() == [[0, 1, 2], [3, 4, 5], [6, -1, -1]]
    assert plan.indices.dtype == np.int32
    assert not plan.reset_rows.any()
    assert (plan.steps, plan.batch_size, plan.num_samples) == (3, 3, 7)


def test_shuffled_plan_is_a_pure_function_of_seed_and_epoch() -> None:
    first = shuffled_plan(25, 4, seed=3, epoch=5).indices
    assert np.array_equal(first, shuffled_plan(25, 4, seed=3, epoch=5).indices)
    assert not np.array_equal(first, shuffled_plan(25, 4, seed=3, epoch=6).indices)
    assert sorted(first[first >= 0].tolist()) == list(range(25))


def test_shuffled_plan_refuses_a_zero_batch_size() -> None:
    message = "The 'batch_size' parameter of shuffled_plan must be an int >= 1. Got 0 instead."
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        shuffled_plan(5, 0, seed=0, epoch=0)


def test_epoch_plan_refuses_a_step_without_samples() -> None:
    with pytest.raises(DataError, match="step 1 has no sample"):
        EpochPlan(np.array([[0], [-1]]), np.zeros((2, 1), dtype=bool))


# ----------------------------------------------------------------- semantics
@pytest.fixture(scope="module")
def keras_fit_epoch() -> tuple[keras.Model, dict[str, list[float]]]:
    """One epoch of plain Keras fit, batch 3 over 7 samples, from stateless_model()."""
    inputs, targets = letters(7)
    twin = keras_twin(stateless_model(), learning_rate=0.01)
    history = twin.fit(inputs, targets, batch_size=3, shuffle=False, epochs=1, verbose=0)
    return twin, history.history


@pytest.mark.parametrize("jit_compile", [False, True], ids=["graph", "xla"])
def test_stateless_epoch_equals_keras_fit_including_a_partial_last_batch(
    jit_compile: bool, keras_fit_epoch: tuple[keras.Model, dict[str, list[float]]]
) -> None:
    twin, reference = keras_fit_epoch
    inputs, targets = letters(7)
    model = stateless_model()
    loop = TrainingLoop(model, learning_rate=0.01, jit_compile=jit_compile)

    logs = loop.run_epoch(inputs, targets, shuffled_plan(7, 3, seed=0, epoch=0, shuffle=False))

    assert_same_weights(model, twin)
    assert logs["loss"] == pytest.approx(reference["loss"][0], abs=TOLERANCE)
    assert logs["accuracy"] == pytest.approx(reference["accuracy"][0])


@pytest.mark.parametrize("jit_compile", [False, True], ids=["graph", "xla"])
def test_stateful_model_carries_state_across_steps_like_keras_fit(jit_compile: bool) -> None:
    inputs, targets = letters(6)
    model = stateful_model(batch=2)
    twin = keras_twin(model)
    loop = TrainingLoop(model, jit_compile=jit_compile)

    loop.run_epoch(inputs, targets, shuffled_plan(6, 2, seed=0, epoch=0, shuffle=False))
    twin.fit(inputs, targets, batch_size=2, shuffle=False, epochs=1, verbose=0)

    assert_same_weights(model, twin)
    for ours, theirs in zip(lstm_state(model), lstm_state(twin), strict=True):
        assert np.abs(ours).max() > 0
        np.testing.assert_allclose(ours, theirs, atol=TOLERANCE)


def test_reset_rows_zero_the_state_before_the_step_like_reset_state() -> None:
    inputs, targets = letters(4)
    model = stateful_model(batch=1)
    twin = keras_twin(model)
    loop = TrainingLoop(model, jit_compile=False)
    reset_rows = np.array([[False], [False], [True], [False]])

    loop.run_epoch(inputs, targets, EpochPlan(np.arange(4).reshape(4, 1), reset_rows))
    twin.fit(inputs[:2], targets[:2], batch_size=1, shuffle=False, epochs=1, verbose=0)
    twin.layers[0].reset_state()
    twin.fit(inputs[2:], targets[2:], batch_size=1, shuffle=False, epochs=1, verbose=0)

    assert_same_weights(model, twin)


def test_a_reset_row_starts_from_zero_while_the_other_rows_continue() -> None:
    inputs, targets = letters(4)
    model = stateful_model(batch=2)
    loop = TrainingLoop(model, jit_compile=False)
    loop.run_epoch(inputs, targets, EpochPlan(np.array([[0, 1]]), np.zeros((1, 2), bool)))
    carried = lstm_state(model)
    reference = stateful_model(batch=2)
    reference.set_weights(model.get_weights())
    for variable, value in zip(reference.layers[0].states, carried, strict=True):
        variable.assign(value * np.array([[0.0], [1.0]], dtype="float32"))
    reference(inputs[2:4])  # the forward pass of the next step, before its update

    loop.run_epoch(inputs, targets, EpochPlan(np.array([[2, 3]]), np.array([[True, False]])))

    for ours, expected in zip(lstm_state(model), lstm_state(reference), strict=True):
        np.testing.assert_allclose(ours, expected, atol=TOLERANCE)


def test_empty_slots_count_in_neither_loss_metrics_nor_gradients() -> None:
    inputs, targets = letters(3)
    padded, compact = stateless_model(), stateless_model()
    padded_logs = TrainingLoop(padded, jit_compile=False).run_epoch(
        inputs, targets, EpochPlan(np.array([[0, 1, -1, -1]]), np.zeros((1, 4), bool))
    )
    compact_logs = TrainingLoop(compact, jit_compile=False).run_epoch(
        inputs, targets, EpochPlan(np.array([[0, 1]]), np.zeros((1, 2), bool))
    )

    assert_same_weights(padded, compact, atol=1e-7)
    assert padded_logs == pytest.approx(compact_logs, abs=1e-7)


def test_an_empty_slot_leaves_its_state_row_unchanged() -> None:
    inputs, targets = letters(4)
    model = stateful_model(batch=2)
    loop = TrainingLoop(model, jit_compile=False)
    loop.run_epoch(inputs, targets, EpochPlan(np.array([[0, 1]]), np.zeros((1, 2), bool)))
    before = lstm_state(model)

    loop.run_epoch(inputs, targets, EpochPlan(np.array([[2, -1]]), np.zeros((1, 2), bool)))

    after = lstm_state(model)
    for old, new in zip(before, after, strict=True):
        np.testing.assert_array_equal(new[1], old[1])
        assert not np.allclose(new[0], old[0])


def test_logs_are_the_loss_and_accuracy_of_the_training_forward_passes() -> None:
    inputs, targets = letters(5)
    model = stateless_model()
    expected = keras_twin(model).evaluate(inputs, targets, verbose=0, return_dict=True)
    logs = TrainingLoop(model, jit_compile=False).run_epoch(
        inputs, targets, shuffled_plan(5, 5, seed=0, epoch=0)
    )
    assert logs["loss"] == pytest.approx(expected["loss"], abs=TOLERANCE)
    assert logs["accuracy"] == pytest.approx(expected["accuracy"])


def test_an_embedding_model_trains_on_integer_ids() -> None:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((2,), dtype="int32"),
            keras.layers.Embedding(CLASSES, 3),
            keras.layers.LSTM(4),
            keras.layers.Dense(CLASSES, activation="softmax"),
        ]
    )
    ids, targets = np.array([[0, 1], [1, 2], [2, 3]]), np.array([2, 3, 4])
    loop = TrainingLoop(model, learning_rate=0.05, jit_compile=False)
    history = loop.fit(ids, targets, lambda epoch: shuffled_plan(3, 3, seed=0, epoch=epoch), epochs=40)
    assert history["loss"][-1] < history["loss"][0] / 4  # the ids are read as ids: it learns them
    assert loop.evaluate(ids, targets)["accuracy"] == 1.0
    assert model.predict(ids, verbose=0).argmax(-1).tolist() == [2, 3, 4]


# -------------------------------------------------------- fit and callbacks
class Recorder(keras.callbacks.Callback):
    def __init__(self, stop_at: int | None = None) -> None:
        super().__init__()
        self.stop_at = stop_at
        self.events: list[tuple[str, int | None]] = []
        self.logs: list[dict[str, float]] = []

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.events.append(("train_begin", None))

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.events.append(("epoch_begin", epoch))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.events.append(("epoch_end", epoch))
        self.logs.append(dict(logs or {}))
        if epoch == self.stop_at:
            self.model.stop_training = True

    def on_train_end(self, logs: dict | None = None) -> None:
        self.events.append(("train_end", None))


def test_callbacks_see_every_epoch_and_its_logs() -> None:
    inputs, targets = letters(4)
    recorder = Recorder()
    history = TrainingLoop(stateless_model(), jit_compile=False).fit(
        inputs, targets, lambda e: shuffled_plan(4, 2, seed=0, epoch=e),
        epochs=3, initial_epoch=1, callbacks=[recorder],
    )
    assert recorder.events == [
        ("train_begin", None),
        ("epoch_begin", 1), ("epoch_end", 1),
        ("epoch_begin", 2), ("epoch_end", 2),
        ("train_end", None),
    ]  # fmt: skip
    assert [logs["loss"] for logs in recorder.logs] == history["loss"]
    assert [logs["accuracy"] for logs in recorder.logs] == history["accuracy"]


def test_a_callback_can_stop_training() -> None:
    inputs, targets = letters(4)
    model = stateless_model()
    history = TrainingLoop(model, jit_compile=False).fit(
        inputs, targets, lambda e: shuffled_plan(4, 2, seed=0, epoch=e),
        epochs=10, callbacks=[Recorder(stop_at=1)],
    )
    assert len(history["loss"]) == 2


def test_early_stopping_stops_training() -> None:
    inputs, targets = letters(4)
    stopper = keras.callbacks.EarlyStopping(monitor="loss", min_delta=100.0, patience=1)
    history = TrainingLoop(stateless_model(), jit_compile=False).fit(
        inputs, targets, lambda e: shuffled_plan(4, 2, seed=0, epoch=e),
        epochs=10, callbacks=[stopper],
    )
    assert len(history["loss"]) == 2


def test_several_epochs_per_call_train_exactly_like_one_epoch_per_call() -> None:
    inputs, targets = letters(5)
    one, chunked = stateless_model(), stateless_model()
    plans = lambda e: shuffled_plan(5, 2, seed=4, epoch=e)  # noqa: E731
    one_loop = TrainingLoop(one, jit_compile=False)
    chunk_loop = TrainingLoop(chunked, jit_compile=False)
    one_history = one_loop.fit(inputs, targets, plans, epochs=5, epochs_per_call=1)
    chunk_history = chunk_loop.fit(inputs, targets, plans, epochs=5, epochs_per_call=2)

    assert_same_weights(one, chunked, atol=1e-6)
    np.testing.assert_allclose(chunk_history["loss"], one_history["loss"], atol=1e-6)
    assert chunk_loop.traces == 1  # the last, shorter chunk is padded, not retraced


def test_fit_traces_the_compiled_epoch_once() -> None:
    inputs, targets = letters(6)
    loop = TrainingLoop(stateless_model(), jit_compile=False)
    loop.fit(
        inputs, targets, lambda e: shuffled_plan(6, 4, seed=0, epoch=e),
        epochs=4, epochs_per_call=1,
    )
    assert loop.traces == 1


def test_same_seed_gives_bit_identical_weights() -> None:
    inputs, targets = letters(6)
    models = []
    for _ in range(2):
        model = stateless_model(seed=11)
        TrainingLoop(model).fit(  # the default: XLA, epochs chunked and the last chunk padded
            inputs, targets, lambda e: shuffled_plan(6, 2, seed=11, epoch=e),
            epochs=3, epochs_per_call=2,
        )
        models.append(model)
    for a, b in zip(models[0].get_weights(), models[1].get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ evaluate
def test_evaluate_equals_keras_evaluate() -> None:
    inputs, targets = letters(7)
    model = stateless_model()
    expected = keras_twin(model).evaluate(inputs, targets, verbose=0, return_dict=True)
    logs = TrainingLoop(model, jit_compile=False).evaluate(inputs, targets, batch_size=3)
    assert logs["loss"] == pytest.approx(expected["loss"], abs=TOLERANCE)
    assert logs["accuracy"] == pytest.approx(expected["accuracy"])


def test_evaluate_refuses_a_zero_batch_size() -> None:
    inputs, targets = letters(2)
    message = (
        "The 'batch_size' parameter of TrainingLoop.evaluate must be None or an int >= 1. "
        "Got 0 instead."
    )
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        TrainingLoop(stateless_model(), jit_compile=False).evaluate(inputs, targets, batch_size=0)


def test_evaluate_needs_a_plan_for_a_stateful_model() -> None:
    inputs, targets = letters(2)
    with pytest.raises(DataError) as error:
        TrainingLoop(stateful_model(batch=2), jit_compile=False).evaluate(inputs, targets)
    assert str(error.value) == (
        "TrainingLoop.evaluate needs a plan for a model with stateful RNN layers: the samples as its "
        "fixed batch of streams (seqkit.engine.stream_indices)."
    )


def test_evaluating_a_stateful_model_leaves_its_training_state_as_it_was() -> None:
    from seqkit.engine import stream_indices

    inputs, targets = letters(6)
    loop = TrainingLoop(stateful_model(batch=2), jit_compile=False)
    indices = stream_indices(len(targets), 2)
    loop.run_epoch(inputs, targets, EpochPlan(indices, np.zeros(indices.shape, bool)))
    before = [variable.numpy().copy() for variable in loop.state_variables]
    assert any(value.any() for value in before)  # training left a state to keep
    logs = loop.evaluate(inputs, targets, EpochPlan(indices, np.zeros(indices.shape, bool)))
    assert 0.0 <= logs["accuracy"] <= 1.0 and logs["loss"] > 0
    for variable, value in zip(loop.state_variables, before):
        np.testing.assert_array_equal(variable.numpy(), value)


# ---------------------------------------------------------------- bad input
def plan_of(indices: list[list[int]]) -> EpochPlan:
    array = np.array(indices)
    return EpochPlan(array, np.zeros(array.shape, dtype=bool))


@pytest.mark.parametrize(
    ("inputs", "targets", "plan", "message"),
    [
        (
            np.zeros((3, 1, 1)), np.zeros(2, int), plan_of([[0]]),
            "inputs and targets must hold the same number of samples; got 3 inputs and 2 "
            "targets.",
        ),
        (
            np.zeros((3, 1, 1)), np.zeros(3, int), plan_of([[0, 3]]),
            "EpochPlan.indices must be < the number of samples 3; got 3. Build the plan "
            "for these inputs.",
        ),
        (
            np.zeros((3, 2, 1)), np.zeros(3, int), plan_of([[0]]),
            "inputs must have shape (samples, 1, 1) to fit the model's input; got (3, 2, 1). "
            "Lay the windows out with the layout the model was built for.",
        ),
        (
            np.zeros((3, 1, 1)), np.array([0, 1, CLASSES]), plan_of([[0]]),
            f"targets must be class ids in [0, {CLASSES}); got values from 0 to {CLASSES}. "
            "Build the model's output layer with as many units as the vocabulary has tokens.",
        ),
        (
            np.zeros((3, 1, 1)), np.eye(3, dtype=int), plan_of([[0]]),
            "targets must be a 1-D array of integer class ids; got shape (3, 3) and dtype "
            "int64. Pass ids, not one-hot rows (use targets.argmax(-1) on one-hot arrays).",
        ),
    ],
    ids=["lengths", "index-range", "input-shape", "class-range", "one-hot"],
)
def test_bad_data_is_refused_with_what_and_how_to_fix(
    inputs: np.ndarray, targets: np.ndarray, plan: EpochPlan, message: str
) -> None:
    loop = TrainingLoop(stateless_model(), jit_compile=False)
    with pytest.raises(DataError) as error:
        loop.run_epoch(inputs, targets, plan)
    assert str(error.value) == message


def test_a_plan_batch_that_differs_from_the_stateful_batch_is_refused() -> None:
    inputs, targets = letters(4)
    model = stateful_model(batch=2)
    assert stateful_batch_size(model) == 2
    with pytest.raises(DataError) as error:
        TrainingLoop(model, jit_compile=False).run_epoch(inputs, targets, plan_of([[0, 1, 2]]))
    assert str(error.value) == (
        "the plan's batch size 3 differs from the stateful model's fixed batch size 2. "
        "Build the plan with batch_size=2, or rebuild the model with "
        "keras.Input(batch_shape=(3, ...))."
    )



def test_run_epoch_on_the_same_samples_traces_one_compiled_loop() -> None:
    inputs, targets = letters(5)
    loop = TrainingLoop(stateless_model(), jit_compile=False)
    for epoch in range(4):
        loop.run_epoch(inputs, targets, shuffled_plan(5, 2, seed=0, epoch=epoch))
    assert loop.traces == 1
