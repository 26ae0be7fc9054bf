"""Shared fixtures of the seqkit test suite."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# Property tests stay quick: a modest number of examples and no per-example deadline
# (the first example of a test may pay for TensorFlow's warm-up).
settings.register_profile("seqkit", max_examples=40, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "seqkit"))

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@pytest.fixture
def alphabet_text() -> str:
    """The origin tutorial's dataset, ``"ABCDEFGHIJKLMNOPQRSTUVWXYZ"``."""
    return ALPHABET


@pytest.fixture
def alphabet_ids() -> np.ndarray:
    """The alphabet as ids ``0 .. 25`` (the tutorial's ``char_to_int``)."""
    return np.arange(len(ALPHABET))


@pytest.fixture
def tutorial_dataset():
    """The origin tutorial's own loop, returning ``(dataX, dataY)`` for a ``seq_length``."""

    def build(seq_length: int) -> tuple[list[list[int]], list[int]]:
        alphabet = ALPHABET
        char_to_int = dict((c, i) for i, c in enumerate(alphabet))
        dataX = []
        dataY = []
        for i in range(0, len(alphabet) - seq_length, 1):
            seq_in = alphabet[i : i + seq_length]
            seq_out = alphabet[i + seq_length]
            dataX.append([char_to_int[char] for char in seq_in])
            dataY.append(char_to_int[seq_out])
        return dataX, dataY

    return build


@pytest.fixture
def runner():
    """A click ``CliRunner`` for the ``seqkit`` CLI (stdout and stderr kept apart)."""
    from click.testing import CliRunner

    return CliRunner()
