"""Specification of seqkit.errors: one hierarchy, so callers tell user mistakes from bugs."""

import pytest

from seqkit.errors import (
    ConfigurationError,
    DataError,
    LayoutError,
    ModelFileError,
    NotFittedError,
    SeqkitError,
    VocabularyError,
    parameter_error,
)


@pytest.mark.parametrize(
    ("error_type", "builtin"),
    [
        (VocabularyError, ValueError),
        (DataError, ValueError),
        (LayoutError, ValueError),
        (ConfigurationError, ValueError),
        (NotFittedError, RuntimeError),
        (ModelFileError, OSError),
    ],
    ids=lambda value: value.__name__,
)
def test_every_error_is_a_seqkit_error_and_the_builtin_callers_expect(error_type, builtin):
    assert issubclass(error_type, SeqkitError) and issubclass(error_type, builtin)


def test_parameter_error_has_the_one_shape_for_bad_hyperparameters():
    error = parameter_error("StatefulTrainer", "units", "an int >= 1", 0)
    assert (type(error), str(error)) == (
        ConfigurationError,
        "The 'units' parameter of StatefulTrainer must be an int >= 1. Got 0 instead.",
    )


def test_parameter_error_echoes_the_received_value_as_its_repr():
    assert str(parameter_error("ModelSpec", "dropout", "a float in [0, 1)", "0.5")) == (
        "The 'dropout' parameter of ModelSpec must be a float in [0, 1). Got '0.5' instead."
    )
