"""Specification of fine-tuning: ``fit(..., init_from=model)`` and ``seqkit train --init-from``."""

from __future__ import annotations

import glob
import json
import sysconfig

import numpy as np
import pytest

from seqkit import alphabet
from seqkit.corpora import sample_text
from seqkit.errors import ConfigurationError, VocabularyError
from seqkit.sequence_model import SequenceModel
from seqkit.trainers import StatefulTrainer, StatelessTrainer, StreamTrainer

TEXT = "".join(sample_text().tokens)


def _small_stream(**settings) -> StreamTrainer:
    return StreamTrainer(**{"window": 16, "batch_size": 4, "units": 16, "embedding_dim": 8, "epochs": 1, **settings})


@pytest.fixture(scope="module")
def stream_model() -> SequenceModel:
    return _small_stream(epochs=2).fit(TEXT)[0]


@pytest.mark.slow
def test_fine_tuning_starts_from_the_models_weights(stream_model):
    trainer = _small_stream(epochs=1, learning_rate=1e-12)  # a step too small to move a weight
    tuned, _ = trainer.fit(TEXT[:1500], init_from=stream_model)
    for before, after in zip(stream_model.network.get_weights(), tuned.network.get_weights()):
        np.testing.assert_allclose(before, after, atol=1e-6)


@pytest.mark.slow
def test_fine_tuning_takes_the_architecture_from_the_model(stream_model):
    tuned, _ = StreamTrainer(window=16, batch_size=4, epochs=1).fit(TEXT[:1500], init_from=stream_model)
    assert tuned.spec["model"] == stream_model.spec["model"]
    assert tuned.spec["hyperparameters"]["units"] == 16 and tuned.spec["hyperparameters"]["embedding_dim"] == 8
    assert tuned.vocabulary == stream_model.vocabulary
    assert tuned.spec["init_from"] == {"trainer": "StreamTrainer", "corpus": stream_model.spec["corpus"], "tokens_added": []}


def test_an_option_that_contradicts_the_model_is_refused(stream_model):
    with pytest.raises(ConfigurationError) as error:
        _small_stream(units=64).fit(TEXT, init_from=stream_model)
    assert str(error.value) == (
        "StreamTrainer cannot continue the model with units=64: the model has units=16. Leave units out (it is "
        "taken from the model), or train a new model without init_from."
    )


def test_new_tokens_are_refused_by_name(stream_model):
    with pytest.raises(VocabularyError) as error:
        _small_stream().fit(TEXT + "€¤€", init_from=stream_model)
    assert str(error.value) == (
        f"The new data holds 2 tokens the model's vocabulary of {stream_model.vocabulary.size} does not: '€', '¤'. "
        "Train on text made of the model's tokens, or let the vocabulary grow (extend_vocabulary=True, "
        "--extend-vocabulary)."
    )


@pytest.mark.slow
def test_a_grown_vocabulary_keeps_the_old_rows(stream_model):
    tuned, _ = _small_stream(learning_rate=1e-12).fit(TEXT + "€¤", init_from=stream_model, extend_vocabulary=True)
    old = stream_model.vocabulary.size
    assert tuned.vocabulary.tokens == (*stream_model.vocabulary.tokens, "€", "¤")
    embedding = tuned.network.get_layer("embedding").get_weights()[0]
    np.testing.assert_allclose(embedding[: old + 1], stream_model.network.get_layer("embedding").get_weights()[0], atol=1e-6)
    kernel, bias = tuned.network.get_layer("next_token").get_weights()
    assert kernel.shape[1] == old + 2 and bias.shape == (old + 2,)
    assert tuned.spec["init_from"]["tokens_added"] == ["€", "¤"]


def test_a_scaled_input_model_cannot_grow_its_vocabulary():
    model, _ = StatelessTrainer(window=3, units=4, epochs=1).fit(alphabet())
    with pytest.raises(ConfigurationError) as error:
        StatelessTrainer(window=3, epochs=1).fit("ABCDEFab", init_from=model, extend_vocabulary=True)
    assert str(error.value) == (
        "Cannot grow the vocabulary of a model with scaled inputs (id / 26): every input it learned would change. "
        "Train a new model, or continue one with onehot or embedding inputs."
    )


def test_a_stream_trainer_cannot_continue_a_scaled_window_model():
    model, _ = StatelessTrainer(window=3, units=4, epochs=1).fit(alphabet())
    with pytest.raises(ConfigurationError) as error:
        _small_stream().fit(TEXT, init_from=model)
    assert str(error.value) == (
        "StreamTrainer reads token ids through an embedding, one per step; the model to continue reads scaled "
        "inputs (timesteps layout). Continue it with a window trainer (stateless or stateful)."
    )


@pytest.mark.slow
def test_a_stream_model_continues_as_a_stateful_window_model(stream_model):
    tuned, history = StatefulTrainer(encoding="embedding", epochs=1, batch_size=4).fit(TEXT[:800], init_from=stream_model)
    assert tuned.stateful and history.epochs == 1


@pytest.mark.slow
def test_the_cli_continues_a_bundle_with_its_trainer_and_refuses_contradictions(runner, tmp_path, stream_model):
    from seqkit.cli.main import main

    stream_model.save(tmp_path / "base.seqkit")
    (tmp_path / "more.txt").write_text(TEXT[:3000] + "€", encoding="utf-8")
    base = ["train", "--text", str(tmp_path / "more.txt"), "--init-from", str(tmp_path / "base.seqkit"),
            "--window", "16", "--batch-size", "4", "--epochs", "1"]
    refused = runner.invoke(main, [*base, "--units", "64"])
    assert refused.exit_code == 2
    assert refused.stderr.strip().splitlines()[-1] == (
        f"Error: --units 64 contradicts the model in {tmp_path / 'base.seqkit'} (units 16): leave --units out with "
        "--init-from; it is taken from the model."
    )
    unknown = runner.invoke(main, base)
    assert unknown.exit_code == 1 and "holds 1 token the model's vocabulary" in unknown.stderr
    grown = runner.invoke(main, [*base, "--extend-vocabulary", "--json"])
    assert grown.exit_code == 0, grown.output
    report = json.loads(grown.stdout)
    assert report["trainer"] == "StreamTrainer" and report["init_from"]["tokens_added"] == ["€"]


def _stdlib_source(limit: int) -> str:
    files = sorted(glob.glob(sysconfig.get_paths()["stdlib"] + "/*.py"))
    text = "".join(open(path, encoding="utf-8", errors="replace").read() for path in files)
    return text[:limit]


def _prose(limit: int) -> str:
    import pydoc_data.topics

    return "".join(pydoc_data.topics.topics[key] for key in sorted(pydoc_data.topics.topics))[:limit]


@pytest.mark.slow
def test_fine_tuning_a_model_of_code_beats_training_from_scratch_on_new_text():
    """The issue's check: 1 MB of the standard library's source, then 2 epochs on 100 KB of another text
    (Python's documentation prose), scored on that text's test split in bits per character."""
    pretrained, _ = StreamTrainer(epochs=3, seed=7).fit(_stdlib_source(1_000_000))
    prose = _prose(100_000)
    tuned_trainer = StreamTrainer(epochs=2, seed=7)
    tuned_trainer.fit(prose, init_from=pretrained, extend_vocabulary=True, test=0.1)
    scratch_trainer = StreamTrainer(epochs=2, seed=7)
    scratch_trainer.fit(prose, test=0.1)
    tuned, scratch = tuned_trainer.test_score_, scratch_trainer.test_score_
    assert tuned.tokens == scratch.tokens
    assert tuned.bits_per_character < scratch.bits_per_character - 0.5, (tuned, scratch)


@pytest.fixture(scope="module")
def features_model() -> SequenceModel:
    """A window of two one-hot vectors read as features."""
    return StatelessTrainer(window=2, layout="features", encoding="onehot", units=4, epochs=1).fit(alphabet())[0]


def test_a_one_hot_features_model_cannot_grow_its_vocabulary(features_model):
    with pytest.raises(ConfigurationError) as error:
        StatelessTrainer(window=2, epochs=1).fit("ABCDab", init_from=features_model, extend_vocabulary=True)
    assert str(error.value) == (
        "Cannot grow the vocabulary of a model that reads a window of one-hot vectors as features: each position's "
        "26 columns would shift. Train a new model, or continue one with embedding inputs."
    )


def test_a_features_model_cannot_continue_with_another_window(features_model):
    with pytest.raises(ConfigurationError) as error:
        StatelessTrainer(window=3, epochs=1).fit(alphabet(), init_from=features_model)
    assert str(error.value) == (
        "The model to continue does not fit this trainer's network: layer 'lstm_1' has weights of shape (52, 16) "
        "there and (78, 16) here. Use the settings it was trained with (its layout, encoding and window)."
    )


@pytest.mark.slow
def test_a_one_hot_time_steps_model_grows_its_input_rows():
    model, _ = StatelessTrainer(window=2, encoding="onehot", units=4, epochs=1).fit(alphabet())
    tuned, _ = StatelessTrainer(window=2, epochs=1, learning_rate=1e-12).fit(
        "ABCDEFab", init_from=model, extend_vocabulary=True
    )
    old_kernel = model.network.get_layer("lstm_1").get_weights()[0]
    new_kernel = tuned.network.get_layer("lstm_1").get_weights()[0]
    assert new_kernel.shape == (28, 16)
    np.testing.assert_allclose(new_kernel[:26], old_kernel, atol=1e-6)


def test_a_bad_test_text_is_refused_before_training():
    trainer = StatelessTrainer(window=2, units=4, epochs=1)
    with pytest.raises(VocabularyError) as error:
        trainer.fit(alphabet(), test="abc")
    assert str(error.value).startswith("Token 'a' is not in the vocabulary of 26 tokens")
    assert not hasattr(trainer, "model_")
