"""Shared fixtures of the seqkit test suite."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@pytest.fixture
def alphabet_text() -> str:
    """The origin tutorial's dataset, ``"ABCDEFGHIJKLMNOPQRSTUVWXYZ"``."""
    return ALPHABET


@pytest.fixture
def alphabet_ids() -> np.ndarray:
    """The alphabet as ids ``0 .. 25`` (the tutorial's ``char_to_int``)."""
    return np.arange(len(ALPHABET))
