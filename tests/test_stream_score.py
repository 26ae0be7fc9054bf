"""Scoring belongs to the model: a loaded stream bundle scores as the trainer that made it did."""

from __future__ import annotations

import pytest

from seqkit import SequenceModel
from seqkit.trainers import StreamTrainer

pytestmark = pytest.mark.slow  # two stream models trained and scored, ~9 s

TEXT = "def add(a, b):\n    return a + b\n\nclass Point:\n    x = 0\n" * 30


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory):
    trainer = StreamTrainer(window=16, batch_size=4, units=16, epochs=2, seed=7)
    model, _ = trainer.fit(TEXT)
    path = model.save(tmp_path_factory.mktemp("score") / "stream.seqkit")
    return trainer, model, path


def test_a_loaded_bundle_scores_as_the_trainer_scored_the_model_it_was_saved_from(fitted):
    trainer, model, path = fitted
    expected = trainer.score(model, TEXT)
    score = SequenceModel.load(path).score(TEXT)
    assert score.loss == pytest.approx(expected["loss"], abs=1e-6)
    assert score.accuracy == pytest.approx(expected["accuracy"], abs=1e-6)
    assert score.tokens == expected["tokens"]


def test_a_trainer_that_was_never_fitted_scores_a_loaded_bundle(fitted):
    trainer, model, path = fitted
    expected = trainer.score(model, TEXT)
    fresh = StreamTrainer(window=16, batch_size=4, units=16)
    assert fresh.score(SequenceModel.load(path), TEXT)["loss"] == pytest.approx(expected["loss"], abs=1e-6)
