"""Specification of the training controls: GRU cells, gradient clipping, learning-rate schedules."""

from __future__ import annotations

import json
import math

import keras
import numpy as np
import pytest

from seqkit import alphabet
from seqkit.corpora import sample_text
from seqkit.errors import ConfigurationError
from seqkit.experiments import EXPERIMENTS
from seqkit.models import ModelSpec, build_stream_model
from seqkit.schedules import Schedule, WarmupCosine, parse_schedule
from seqkit.sequence_model import SequenceModel
from seqkit.trainers import StatelessTrainer, StreamTrainer


def _recurrent_kinds(model: SequenceModel) -> list[str]:
    return [type(layer).__name__ for layer in model.network.layers if isinstance(layer, keras.layers.RNN)]


@pytest.mark.slow
@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_every_experiments_trainer_trains_a_gru(name):
    experiment = EXPERIMENTS[name]
    trainer = experiment.make_trainer(2).set_params(cell="gru")
    model, history = trainer.fit(alphabet())
    assert _recurrent_kinds(model) == ["GRU"]
    assert len(history.loss) == 2 and all(math.isfinite(loss) for loss in history.loss)
    assert model.spec["model"]["cell"] == "gru"


def test_a_gru_stream_network_carries_one_state_per_layer():
    network = build_stream_model(ModelSpec(units=8, layers=2, embedding_dim=4, cell="gru"), vocabulary_size=5)
    assert [tensor.name for tensor in network.inputs[1:]] == ["gru_1_h", "gru_2_h"]
    assert len(network.outputs) == 3


@pytest.mark.slow
def test_a_gru_stream_model_saves_primes_generates_and_exports(tmp_path):
    trainer = StreamTrainer(window=16, batch_size=4, units=16, embedding_dim=8, epochs=1, cell="gru")
    model, _ = trainer.fit(sample_text())
    model.save(tmp_path / "gru.seqkit")
    loaded = SequenceModel.load(tmp_path / "gru.seqkit")
    model.reset()
    expected_text = model.generate("def ", 8)
    loaded.reset()
    assert loaded.generate("def ", 8) == expected_text
    exported = loaded.export(tmp_path / "gru_saved_model")
    import tensorflow as tf

    served = tf.saved_model.load(str(exported))
    signature = served.signatures["serving_default"]
    state = served.signatures["initial_state"](batch_size=tf.constant(1))
    assert sorted(state) == ["gru_1_h"]
    outputs = signature(tokens=tf.constant([["d"]]), **state)
    loaded.reset()
    expected = loaded.next_distribution("d")
    np.testing.assert_allclose(outputs["probabilities"].numpy()[0], expected, atol=1e-5)


def test_a_gru_is_not_trained_through_the_lstm_kernel():
    with pytest.raises(ConfigurationError) as error:
        StreamTrainer(window=16, batch_size=4, units=8, epochs=1, cell="gru", kernel=True).fit(sample_text())
    assert str(error.value) == (
        "StreamTrainer cannot train a GRU with seqkit's LSTM kernel (kernel=True): the kernel computes LSTMs "
        "only. Leave kernel=None, or use cell='lstm'."
    )


def test_an_unknown_cell_is_refused():
    with pytest.raises(ConfigurationError) as error:
        StatelessTrainer(cell="rnn").fit(alphabet())
    assert str(error.value) == "The 'cell' parameter of StatelessTrainer must be 'lstm' or 'gru'. Got 'rnn' instead."


@pytest.mark.slow
def test_clip_norm_bounds_every_update_to_the_global_norm():
    """Adam's first step moves each weight by the learning rate times sign(g) whatever the clipping; what
    clipping changes is the gradient Adam sees, so the test reads the optimizer's first moment."""
    trainer = StatelessTrainer(window=3, encoding="onehot", units=8, epochs=1, batch_size=23, shuffle=False,
                               clip_norm=0.01, learning_rate=0.1)
    trainer.fit(alphabet())
    optimizer = trainer.network_.optimizer
    momenta = [variable for variable in optimizer.variables if "momentum" in variable.path]
    norm = math.sqrt(sum(float(np.sum(np.square(keras.ops.convert_to_numpy(m)))) for m in momenta))
    assert norm == pytest.approx(0.1 * 0.01, rel=1e-3)  # m = (1 - beta_1) * clipped gradient


def test_a_negative_clip_norm_is_refused():
    with pytest.raises(ConfigurationError) as error:
        StatelessTrainer(clip_norm=-1.0).fit(alphabet())
    assert str(error.value).startswith("The 'clip_norm' parameter of StatelessTrainer must be")


def test_schedules_parse_and_describe():
    assert parse_schedule("constant") == Schedule("constant")
    assert parse_schedule("cosine:50") == Schedule("cosine", warmup=50)
    assert parse_schedule("plateau:3").describe() == "plateau:3"


@pytest.mark.parametrize("text", ["cosine:-1", "plateau:0", "constant:3", "step", ""])
def test_a_bad_schedule_is_refused_in_one_line(text):
    with pytest.raises(ConfigurationError) as error:
        parse_schedule(text)
    assert str(error.value) == (
        f"Unknown learning-rate schedule {text!r}: expected 'constant', 'cosine', 'cosine:W' (W warmup steps >= 0), "
        "'plateau' or 'plateau:P' (P epochs >= 1)."
    )


@pytest.mark.slow
def test_cosine_decays_to_zero_at_the_last_step_of_the_run():
    trainer = StatelessTrainer(window=3, units=8, epochs=4, batch_size=23, lr_schedule="cosine:1", learning_rate=0.01)
    trainer.fit(alphabet())
    optimizer = trainer.network_.optimizer
    schedule = optimizer._learning_rate
    assert isinstance(schedule, WarmupCosine) and schedule.total_steps == 4
    assert float(schedule(0)) == pytest.approx(0.01)
    assert float(schedule(4)) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.slow
def test_plateau_halves_the_rate_when_the_loss_stops_improving():
    trainer = StatelessTrainer(window=3, units=8, epochs=12, learning_rate=3.0, lr_schedule="plateau:1")
    trainer.fit(alphabet())
    rate = float(keras.ops.convert_to_numpy(trainer.network_.optimizer.learning_rate))
    assert rate < 3.0 and math.log2(3.0 / rate) == pytest.approx(round(math.log2(3.0 / rate)))


@pytest.mark.slow
def test_the_cli_trains_a_gru_with_clipping_and_a_schedule(runner, tmp_path):
    from seqkit.cli.main import main

    result = runner.invoke(main, [
        "train", "--window", "3", "--epochs", "3", "--cell", "gru", "--clip-norm", "5", "--lr-schedule", "cosine:2",
        "--json",
    ])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["model"]["cell"] == "gru"
    assert report["hyperparameters"]["clip_norm"] == 5.0
    assert report["hyperparameters"]["lr_schedule"] == "cosine:2"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--lr-schedule", "step"], "Invalid value for '--lr-schedule': Unknown learning-rate schedule 'step'"),
        (["--clip-norm", "0"], "Invalid value for '--clip-norm'"),
        (["--cell", "rnn"], "Invalid value for '--cell'"),
    ],
)
def test_the_cli_refuses_bad_controls_as_usage_errors(runner, args, message):
    from seqkit.cli.main import main

    result = runner.invoke(main, ["train", *args])
    assert result.exit_code == 2
    assert message in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("clip_norm", [None, 5.0], ids=["unclipped", "clipped"])
def test_adam_at_learning_rate_half_stays_finite_with_or_without_clipping(clip_norm):
    """The folklore says an LSTM at learning rate 0.5 goes NaN unless its gradients are clipped. With Adam
    (each weight's step is about the learning rate whatever the gradient's size) it does not, in any run we
    measured (docs/real-text.md, "Clipping"): the loss climbs, but stays finite, clipped or not."""
    trainer = StreamTrainer(window=32, batch_size=8, units=64, epochs=3, learning_rate=0.5, clip_norm=clip_norm)
    _, history = trainer.fit(sample_text())
    assert all(math.isfinite(loss) for loss in history.loss)


@pytest.mark.slow
def test_a_gru_stream_run_resumes_from_its_checkpoint_as_if_never_stopped(tmp_path):
    settings = dict(window=16, batch_size=4, units=16, embedding_dim=8, cell="gru", seed=3)
    straight, _ = StreamTrainer(epochs=2, **settings).fit(sample_text())
    StreamTrainer(epochs=1, checkpoint_dir=tmp_path / "run", **settings).fit(sample_text())
    resumed, history = StreamTrainer(epochs=2, checkpoint_dir=tmp_path / "run", **settings).fit(
        sample_text(), resume=True
    )
    assert history.epochs == 2
    for expected, got in zip(straight.network.get_weights(), resumed.network.get_weights()):
        np.testing.assert_array_equal(expected, got)
