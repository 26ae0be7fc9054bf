"""seqkit's error hierarchy.

Every mistake a user can make raises a subclass of :class:`SeqkitError` whose
message says what happened, what was expected and how to fix it, so that the
CLI can turn it into a one-line error and tell user mistakes from bugs.

>>> from seqkit.errors import SeqkitError, VocabularyError
>>> issubclass(VocabularyError, SeqkitError) and issubclass(VocabularyError, ValueError)
True
"""

from __future__ import annotations


class SeqkitError(Exception):
    """Base class of every error seqkit raises on purpose."""


class VocabularyError(SeqkitError, ValueError):
    """A vocabulary is malformed, or a token or id is not in it."""


class DataError(SeqkitError, ValueError):
    """A corpus, a window specification or an array does not fit what is asked."""


class LayoutError(SeqkitError, ValueError):
    """A layout or encoding name or configuration is not valid."""


class ConfigurationError(SeqkitError, ValueError):
    """A hyperparameter of a model, trainer or experiment is not valid."""


class NotFittedError(SeqkitError, RuntimeError):
    """A model or trainer is used before it was fitted or loaded."""


class ModelFileError(SeqkitError, OSError):
    """A bundle, vocabulary or checkpoint file is missing, corrupted or foreign."""


class MissingDependencyError(SeqkitError, ImportError):
    """An optional dependency (an extra such as ``seqkit[plot]``) is not installed."""


def parameter_error(
    owner: str, name: str, expected: str, received: object
) -> ConfigurationError:
    """Build the one-shape message for a bad hyperparameter.

    Args:
        owner: the class or function that owns the parameter.
        name: the parameter's name.
        expected: what a valid value is, e.g. ``"an int >= 1"``.
        received: the value that was given.

    Returns:
        A :class:`ConfigurationError` ready to raise.

    >>> str(parameter_error("StatefulTrainer", "units", "an int >= 1", 0))
    "The 'units' parameter of StatefulTrainer must be an int >= 1. Got 0 instead."
    """
    return ConfigurationError(
        f"The '{name}' parameter of {owner} must be {expected}. Got {received!r} instead."
    )
