"""SequenceModel's own parameters: one message shape, non-finite numbers refused."""

from __future__ import annotations

import math

import pytest

import seqkit
from seqkit.errors import ConfigurationError
from seqkit.sequence_model import SequenceModel
from seqkit.trainers import StatelessTrainer
from seqkit.windows import sliding_windows


@pytest.fixture(scope="module")
def model() -> SequenceModel:
    fitted, _ = StatelessTrainer(window=2, units=4, epochs=1).fit(seqkit.alphabet())
    return fitted


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: m.predict_next("AB", top_k=0),
         "The 'top_k' parameter of SequenceModel.predict_next must be an int in [1, 26]. Got 0 instead."),
        (lambda m: m.predict_next("AB", top_k=27),
         "The 'top_k' parameter of SequenceModel.predict_next must be an int in [1, 26]. Got 27 instead."),
        (lambda m: m.generate("AB", -1),
         "The 'steps' parameter of SequenceModel.generate must be an int in [0, 1000000]. Got -1 instead."),
        (lambda m: m.generate("AB", 10**11),
         "The 'steps' parameter of SequenceModel.generate must be an int in [0, 1000000]. Got 100000000000 instead."),
        (lambda m: m.generate("AB", True),
         "The 'steps' parameter of SequenceModel.generate must be an int in [0, 1000000]. Got True instead."),
        (lambda m: m.generate("AB", 3, temperature=0),
         "The 'temperature' parameter of SequenceModel.generate must be a finite float > 0. Got 0 instead."),
        (lambda m: m.generate("AB", 3, temperature=math.inf),
         "The 'temperature' parameter of SequenceModel.generate must be a finite float > 0. Got inf instead."),
        (lambda m: m.generate("AB", 3, temperature=math.nan),
         "The 'temperature' parameter of SequenceModel.generate must be a finite float > 0. Got nan instead."),
        (lambda m: m.evaluate_random_patterns(sliding_windows(range(26), 2), count=0),
         "The 'count' parameter of SequenceModel.evaluate_random_patterns must be an int >= 1. Got 0 instead."),
    ],
)
def test_bad_parameters_are_refused_with_the_one_message_shape(model: SequenceModel, call, message: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        call(model)
    assert str(error.value) == message


def test_a_window_length_must_be_a_positive_int(model: SequenceModel) -> None:
    with pytest.raises(ConfigurationError) as error:
        SequenceModel(model.network, model.vocabulary, model.layout, window_length=0)
    assert str(error.value) == "The 'window_length' parameter of SequenceModel must be an int >= 1. Got 0 instead."


def test_bundle_contents_round_trip_to_an_equal_model(model: SequenceModel) -> None:
    contents = model.bundle_contents()
    again = SequenceModel.from_bundle_contents(contents)
    assert (again.network, again.vocabulary, again.layout) == (model.network, model.vocabulary, model.layout)
    assert (again.window_length, again.spec, again.history) == (model.window_length, model.spec, model.history)


def test_many_models_predicting_many_batch_sizes_log_no_retracing_warning(model):
    import logging

    import tensorflow as tf

    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = tf.get_logger()
    logger.addHandler(handler)
    try:
        ids = seqkit.alphabet().encode(model.vocabulary)[0]
        for _ in range(8):
            copy = SequenceModel(
                model.network, model.vocabulary, model.layout, window_length=model.window_length, spec=model.spec
            )
            for count in (1, 5, 23):
                copy.evaluate(sliding_windows([ids[: count + model.window_length]], model.window_length))
    finally:
        logger.removeHandler(handler)
    assert not [record.getMessage() for record in records if "retracing" in record.getMessage()]


def test_sequence_model_and_load_are_at_the_top_level(tmp_path):
    import seqkit
    from seqkit.trainers import StatelessTrainer

    model, _ = StatelessTrainer(window=2, units=4, epochs=1).fit(seqkit.alphabet())
    loaded = seqkit.load(model.save(tmp_path / "alphabet.seqkit"))
    assert isinstance(loaded, seqkit.SequenceModel)
    assert loaded.generate("AB", 3) == model.generate("AB", 3)
