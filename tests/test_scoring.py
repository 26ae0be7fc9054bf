"""Specification of scoring: SequenceModel.score for every model, the test split, `seqkit evaluate`."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from seqkit import alphabet
from seqkit.corpora import sample_text
from seqkit.datasets import Corpus
from seqkit.errors import ConfigurationError
from seqkit.scoring import Score
from seqkit.sequence_model import SequenceModel
from seqkit.trainers import InBatchTrainer, StatefulTrainer, StatelessTrainer, StreamTrainer
from seqkit.vocab import Vocabulary

TEXT = "".join(sample_text().tokens)
CUT = int(len(TEXT) * 0.85)


def _stream_trainer(**settings) -> StreamTrainer:
    return StreamTrainer(window=16, batch_size=4, units=16, embedding_dim=8, epochs=1, **settings)


def test_a_score_turns_nats_into_bits_perplexity_and_bits_per_character():
    score = Score(loss=math.log(4), accuracy=0.25, tokens=10, characters=20)
    assert score.bits_per_token == pytest.approx(2.0)
    assert score.perplexity == pytest.approx(4.0)
    assert score.bits_per_character == pytest.approx(1.0)
    assert set(score.as_dict()) == {
        "loss", "bits_per_token", "perplexity", "bits_per_character", "accuracy", "tokens", "characters",
    }


@pytest.mark.slow
def test_a_stream_models_score_is_the_stream_trainers_score():
    trainer = _stream_trainer()
    model, _ = trainer.fit(TEXT[:CUT], vocabulary=Vocabulary.from_chars(TEXT))
    expected = trainer.score(model, TEXT[CUT:])
    score = model.score(TEXT[CUT:])
    assert score.loss == pytest.approx(expected["loss"], abs=1e-9)
    assert score.accuracy == expected["accuracy"]
    assert score.tokens == expected["tokens"] == len(TEXT) - CUT - 1


@pytest.mark.slow
def test_a_stream_model_scores_the_same_after_a_save_and_load(tmp_path):
    model, _ = _stream_trainer().fit(TEXT)
    model.save(tmp_path / "stream.seqkit")
    assert SequenceModel.load(tmp_path / "stream.seqkit").score(TEXT[:900]) == model.score(TEXT[:900])


@pytest.mark.parametrize(
    "trainer",
    [
        StatelessTrainer(window=3, units=8, epochs=3),
        pytest.param(InBatchTrainer(units=8, epochs=3), marks=pytest.mark.slow),
        pytest.param(StatefulTrainer(units=8, epochs=3), marks=pytest.mark.slow),
    ],
    ids=["stateless", "in-batch", "stateful"],
)
def test_a_window_models_score_agrees_with_its_evaluation_and_its_probabilities(trainer):
    model, _ = trainer.fit(alphabet())
    windows = model.windows(alphabet().encode(model.vocabulary))
    score = model.score(alphabet())
    assert score.accuracy == pytest.approx(model.evaluate(windows).accuracy)
    assert score.tokens == len(windows) == score.characters
    model.reset()
    losses = []
    for row in range(len(windows)):  # the state carried from window to window, as the score reads them
        probabilities = model.probabilities(windows.inputs[row : row + 1])[0]
        losses.append(-math.log(max(float(probabilities[windows.targets[row]]), 1e-7)))
    model.reset()
    assert score.loss == pytest.approx(float(np.mean(losses)), rel=1e-6)


def test_word_level_characters_count_the_space_after_each_word():
    corpus = Corpus.from_text("do re mi do re mi do re mi", level="word")
    model, _ = StatelessTrainer(window=2, units=4, epochs=1).fit(corpus)
    score = model.score(corpus)
    assert score.tokens == 7 and score.characters == 7 * 3
    assert score.bits_per_character == pytest.approx(score.bits_per_token / 3)


@pytest.mark.slow
def test_the_test_split_is_never_trained_on_and_is_scored_into_the_record():
    trainer = _stream_trainer()
    model, history = trainer.fit(TEXT, validation=0.1, test=0.1)
    rest, held_out = trainer.split_test(TEXT, 0.1)
    assert model.spec["corpus"]["tokens"] == len(trainer.split(rest, 0.1)[0])  # trained on neither held-out part
    assert model.spec["test"]["corpus"] == "test split"
    assert "".join(held_out.tokens) == TEXT[-len(held_out) :]
    assert model.spec["test"]["bits_per_token"] == pytest.approx(model.score(held_out).bits_per_token)
    assert trainer.test_score_ == model.score(held_out)


def test_the_test_split_comes_off_before_the_validation_split():
    trainer = StatelessTrainer(window=2, units=4, epochs=1)
    rest, test = trainer.split_test(alphabet(), 0.2)
    training, validation = trainer.split(rest, 0.25)[0], trainer.split(rest, 0.25)[2]
    assert "".join(training.tokens) + "".join(validation.tokens) + "".join(test.tokens) == "".join(alphabet().tokens)


def test_a_test_text_is_scored_as_given():
    trainer = StatelessTrainer(window=2, units=4, epochs=1)
    model, _ = trainer.fit(alphabet(), test="ABCDEF")
    assert model.spec["test"]["tokens"] == 4 and model.spec["test"]["corpus"] == "test text"


def test_a_bad_test_argument_is_refused():
    with pytest.raises(ConfigurationError) as error:
        StatelessTrainer(epochs=1).fit(alphabet(), test=1.5)
    assert str(error.value).startswith("The 'test' parameter of StatelessTrainer.fit must be")


@pytest.mark.slow
def test_evaluate_json_gives_the_stream_trainers_bits_per_token(runner, tmp_path):
    from seqkit.cli.main import main

    (tmp_path / "train.txt").write_text(TEXT[:CUT], encoding="utf-8")
    (tmp_path / "test.txt").write_text(TEXT[CUT:], encoding="utf-8")
    trainer = _stream_trainer()
    model, _ = trainer.fit(TEXT[:CUT], vocabulary=Vocabulary.from_chars(TEXT))
    model.save(tmp_path / "m.seqkit")
    expected = trainer.score(model, TEXT[CUT:])["bits_per_token"]
    result = runner.invoke(main, [
        "evaluate", str(tmp_path / "m.seqkit"), "--text", str(tmp_path / "test.txt"), "--json",
        "--baseline", str(tmp_path / "train.txt"),
    ])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert abs(report["bits_per_token"] - expected) < 1e-6
    assert report["perplexity"] == pytest.approx(2 ** expected)
    assert [row["name"] for row in report["baselines"]] == ["Kneser-Ney 5-gram", "lzma"]
    assert all(row["bits_per_character"] > 0 for row in report["baselines"])


@pytest.mark.slow
def test_train_with_a_test_split_and_baselines_reports_them_side_by_side(runner, tmp_path):
    from seqkit.cli.main import main

    (tmp_path / "code.txt").write_text(TEXT, encoding="utf-8")
    result = runner.invoke(main, [
        "train", "--trainer", "stream", "--text", str(tmp_path / "code.txt"), "--window", "16", "--batch-size", "4",
        "--units", "16", "--epochs", "1", "--test-split", "0.1", "--baseline", "--baseline-order", "3",
        "--out", str(tmp_path / "m.seqkit"), "--json",
    ])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [row["name"] for row in report["test"]["baselines"]] == ["Kneser-Ney 3-gram", "lzma"]
    assert SequenceModel.load(tmp_path / "m.seqkit").spec["test"] == report["test"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--baseline"], "Error: --baseline scores the test set: give --test-split F or --test-text FILE too."),
        (["--test-split", "0.1", "--test-text", "x"], "Error: Give one of --test-split and --test-text, not both."),
    ],
)
def test_train_refuses_contradicting_test_options(runner, tmp_path, args, message):
    from seqkit.cli.main import main

    (tmp_path / "x").write_text("ABC", encoding="utf-8")
    result = runner.invoke(main, ["train", *[str(tmp_path / arg) if arg == "x" else arg for arg in args]])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == message
