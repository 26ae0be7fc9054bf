"""Specification of the trainers' parameters: scikit-learn's estimator protocol.

Every trainer declares its hyperparameters explicitly with their real defaults,
``get_params``/``set_params`` read and change them, ``sklearn.base.clone`` copies an
unfitted trainer, and a parameter that means nothing for a trainer is refused.
"""

from __future__ import annotations

import inspect

import pytest
from sklearn.base import clone

import seqkit
from seqkit.errors import ConfigurationError
from seqkit.trainers import TRAINERS, InBatchTrainer, StatefulTrainer, StatelessTrainer, StreamTrainer

ALL = sorted(TRAINERS.items())


@pytest.mark.parametrize(("name", "klass"), ALL, ids=[name for name, _ in ALL])
def test_every_parameter_is_explicit_with_its_real_default(name, klass):
    parameters = inspect.signature(klass.__init__).parameters
    keyword = [p for p in parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    assert keyword and all(p.default is not inspect.Parameter.empty for p in keyword)
    trainer = klass()
    assert trainer.get_params() == {p.name: p.default for p in keyword}


@pytest.mark.parametrize(("name", "klass"), ALL, ids=[name for name, _ in ALL])
def test_sklearn_clone_copies_every_parameter(name, klass):
    trainer = klass(units=5, epochs=3, seed=11)
    copy = clone(trainer)
    assert type(copy) is klass and copy is not trainer
    assert copy.get_params() == trainer.get_params()


def test_get_params_takes_deep_as_scikit_learn_does():
    trainer = StatelessTrainer(units=8)
    assert trainer.get_params(deep=True) == trainer.get_params(deep=False)


def test_set_params_changes_parameters_and_returns_the_trainer():
    trainer = StatefulTrainer()
    assert trainer.set_params(units=50, reset="every:5") is trainer
    assert (trainer.units, trainer.reset) == (50, "every:5")


def test_set_params_refuses_an_unknown_name():
    with pytest.raises(ConfigurationError) as error:
        StreamTrainer().set_params(encoding="onehot")
    assert str(error.value).startswith(
        "StreamTrainer has no parameter 'encoding'; its parameters are window, batch_size, units,"
    )


@pytest.mark.parametrize("name", ["batch_size", "shuffle"])
def test_in_batch_refuses_batch_size_and_shuffle(name):
    with pytest.raises(ConfigurationError) as error:
        InBatchTrainer(**{name: 4})
    assert str(error.value) == (
        f"InBatchTrainer trains on the whole dataset as one unshuffled batch, so '{name}' means "
        "nothing for it; leave it out, or use StatelessTrainer."
    )


def test_in_batch_records_its_real_batch():
    model, history = InBatchTrainer(units=4, epochs=2).fit(seqkit.alphabet())
    assert "batch_size" not in model.spec["hyperparameters"]
    assert history.steps == 2 and model.spec["samples"] == 25


def test_stream_trainer_has_no_layout_parameters():
    assert not {"layout", "encoding", "stride"} & set(StreamTrainer().get_params())


def test_the_record_leaves_out_how_and_where_a_run_trains():
    model, _ = StatelessTrainer(window=3, units=4, epochs=1, jit_compile=True).fit(seqkit.alphabet())
    assert not {"callbacks", "checkpoint_dir", "checkpoint_every", "strategy", "jit_compile"} & set(
        model.spec["hyperparameters"]
    )
    assert model.spec["policy"]["jit_compile"] is True and model.spec["policy"]["use_cudnn"] is False


def test_a_fitted_trainer_keeps_its_model_history_and_network():
    trainer = StatelessTrainer(window=3, units=4, epochs=2)
    model, history = trainer.fit(seqkit.alphabet())
    assert trainer.model_ is model and trainer.history_ is history
    assert trainer.network_.optimizer.iterations.numpy() == 2 * 23
