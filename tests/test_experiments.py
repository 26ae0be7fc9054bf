"""The tutorial's experiments, reproduced with fixed seeds.

These are the numbers README.md and docs/ report. Each experiment trains once
per module (fixtures); the tests then specify one outcome each. Accuracies are
asserted exactly as measured (seed 7, CPU); a different CPU may round one
window differently, so each is compared within one window's share.
"""

from __future__ import annotations

import numpy as np
import pytest

from seqkit.experiments import EXPERIMENTS, get_experiment, run_experiment
from seqkit.errors import ConfigurationError

ONE_WINDOW_OF_25 = 100 / 25
ONE_WINDOW_OF_23 = 100 / 23
SLOW_VARIABLE_LENGTH = pytest.mark.slow
"""variable-length trains 1000 windows for 500 epochs (20-30 s on two cores): the slow suite, which CI runs."""


@pytest.fixture(scope="module")
def results():
    cache = {}

    def run(name):
        if name not in cache:
            cache[name] = run_experiment(name)
        return cache[name]

    return run


def test_one_char_reaches_the_tutorials_84_percent(results):
    assert results("one-char").accuracy == pytest.approx(84.00, abs=ONE_WINDOW_OF_25)


def test_window_as_features_reaches_the_notebooks_82_61_percent(results):
    assert results("window-features").accuracy == pytest.approx(82.61, abs=ONE_WINDOW_OF_23)


def test_window_as_time_steps_reaches_100_percent(results):
    assert results("window-timesteps").accuracy == 100.0


def test_window_as_time_steps_generates_the_alphabet_from_its_first_window(results):
    assert results("window-timesteps").generated == "DEFGHIJKLMNOPQRSTUVWXYZ"


def test_in_batch_reaches_100_percent_on_ordered_patterns(results):
    assert results("in-batch").accuracy == 100.0


def test_in_batch_reaches_100_percent_on_random_single_patterns(results):
    assert results("in-batch").random_patterns.accuracy == 1.0


def test_in_batch_takes_one_optimizer_step_per_epoch(results):
    history = results("in-batch").history
    assert (history.epochs, history.steps) == (5000, 5000)


def test_stateful_reaches_100_percent(results):
    assert results("stateful").accuracy == 100.0


def test_stateful_generates_b_to_z_from_a_after_reset(results):
    model = results("stateful").model
    model.reset()
    assert "".join(model.generate("A", 25)) == "BCDEFGHIJKLMNOPQRSTUVWXYZ"


def test_stateful_goes_wrong_from_a_cold_k_as_in_the_tutorial(results):
    model = results("stateful").model
    model.reset()
    assert "".join(model.generate("K", 5)) == "BCDEF"


def test_stateful_continues_l_m_n_after_priming_with_a_to_k(results):
    model = results("stateful").model
    model.reset()
    model.prime("ABCDEFGHIJ")
    assert "".join(model.generate("K", 5)) == "LMNOP"


def test_stateful_fails_random_single_patterns_from_a_cold_state(results):
    assert results("stateful").random_patterns.accuracy < 0.5


@SLOW_VARIABLE_LENGTH
def test_variable_length_reaches_97_20_percent(results):
    assert results("variable-length").accuracy == pytest.approx(97.20, abs=1.0)


@SLOW_VARIABLE_LENGTH
def test_variable_length_errs_only_on_single_letters_as_the_scaled_inputs_predict(results):
    mistakes = results("variable-length").evaluation.mistakes
    assert {len(window) for window, _, _ in mistakes} == {1}


@SLOW_VARIABLE_LENGTH
def test_variable_length_predicts_from_one_letter_thanks_to_masking(results):
    assert results("variable-length").model.predict_next("A")[0].token == "B"


def test_every_experiment_carries_the_tutorials_accuracy():
    assert {name: e.tutorial_accuracy for name, e in EXPERIMENTS.items()} == {
        "one-char": 84.00,
        "window-features": 86.96,
        "window-timesteps": 100.0,
        "in-batch": 100.0,
        "stateful": 100.0,
        "variable-length": 98.90,
    }


def test_unknown_experiment_names_the_valid_ones():
    with pytest.raises(ConfigurationError) as error:
        get_experiment("two-char")
    assert str(error.value) == (
        "Unknown experiment 'two-char': expected one of one-char, window-features, "
        "window-timesteps, in-batch, stateful, variable-length."
    )


def test_epochs_override_must_be_positive():
    with pytest.raises(ConfigurationError) as error:
        run_experiment("one-char", epochs=0)
    assert str(error.value) == "The 'epochs' parameter of run_experiment must be None or an int >= 1. Got 0 instead."


def test_history_records_every_epoch(results):
    history = results("stateful").history
    assert len(history.loss) == len(history.accuracy) == 300
    assert np.isfinite(history.loss).all()
