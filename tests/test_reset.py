"""Specification of seqkit.reset: when a stateful trainer zeroes each stream's state."""

import re

import numpy as np
import pytest

from seqkit.errors import ConfigurationError
from seqkit.reset import AtBoundaries, EveryKBatches, Never, PerEpoch, ResetPolicy, parse_reset_policy

# Five steps of an epoch, three streams (rows). Stream 0 stays in sequence 0, stream 1
# passes from sequence 1 to 2 before step 2, stream 2 from 3 to 4 before step 4.
SEQUENCE_IDS = np.array(
    [
        [0, 1, 3],
        [0, 1, 3],
        [0, 2, 3],
        [0, 2, 3],
        [0, 2, 4],
    ]
)
T, F = True, False


def raises_exactly(error_type, message):
    return pytest.raises(error_type, match=f"^{re.escape(message)}$")


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (PerEpoch(), [[T, T, T], [F, F, F], [F, F, F], [F, F, F], [F, F, F]]),
        (AtBoundaries(), [[T, T, T], [F, F, F], [F, T, F], [F, F, F], [F, F, T]]),
        (EveryKBatches(2), [[T, T, T], [F, F, F], [T, T, T], [F, F, F], [T, T, T]]),
        (EveryKBatches(1), [[T, T, T]] * 5),
        (Never(), [[F, F, F]] * 5),
    ],
    ids=repr,
)
def test_reset_rows_of_each_policy(policy, expected):
    assert policy.reset_rows(SEQUENCE_IDS).tolist() == expected


@pytest.mark.parametrize("policy", [PerEpoch(), AtBoundaries(), EveryKBatches(3), Never()], ids=repr)
def test_reset_rows_is_a_boolean_array_of_the_input_shape(policy):
    rows = policy.reset_rows(SEQUENCE_IDS)
    assert (rows.shape, rows.dtype) == (SEQUENCE_IDS.shape, np.dtype(bool))


def test_every_k_batches_longer_than_the_epoch_resets_only_at_its_start():
    assert EveryKBatches(10).reset_rows(SEQUENCE_IDS)[:, 0].tolist() == [T, F, F, F, F]


# Spellings ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spelling", "policy"),
    [
        ("epoch", PerEpoch()),
        ("boundary", AtBoundaries()),
        ("never", Never()),
        ("every:1", EveryKBatches(1)),
        ("every:4", EveryKBatches(4)),
        ("EPOCH", PerEpoch()),
        ("  Every:12 ", EveryKBatches(12)),
    ],
)
def test_parse_reset_policy_spellings(spelling, policy):
    assert parse_reset_policy(spelling) == policy


def test_parse_reset_policy_returns_a_policy_unchanged():
    policy = EveryKBatches(3)
    assert parse_reset_policy(policy) is policy


@pytest.mark.parametrize(
    ("policy", "spelling"),
    [(PerEpoch(), "epoch"), (AtBoundaries(), "boundary"), (EveryKBatches(5), "every:5"), (Never(), "never")],
)
def test_describe_gives_the_spelling_that_parses_back(policy, spelling):
    assert (policy.describe(), parse_reset_policy(policy.describe())) == (spelling, policy)


def test_a_new_policy_needs_only_reset_rows():
    class OddSteps(ResetPolicy):
        name = "odd"

        def reset_rows(self, sequence_ids):
            rows = np.zeros(sequence_ids.shape, dtype=bool)
            rows[1::2] = True
            return rows

    assert (OddSteps().describe(), OddSteps().reset_rows(SEQUENCE_IDS)[:, 0].tolist()) == ("odd", [F, T, F, T, F])


# Bad input ---------------------------------------------------------------------------
@pytest.mark.parametrize("spelling", ["weekly", "", "every", "3"])
def test_unknown_spelling_is_refused_with_the_valid_ones(spelling):
    with raises_exactly(
        ConfigurationError,
        f"Unknown reset policy {spelling!r}: expected 'epoch', 'boundary', 'every:K' (K >= 1) or 'never'.",
    ):
        parse_reset_policy(spelling)


@pytest.mark.parametrize("spelling", ["every:", "every:x", "every:2.5", "every:--1", "every:²", "every:1_0"])
def test_every_with_a_non_integer_interval_is_refused(spelling):
    with raises_exactly(
        ConfigurationError,
        f"Invalid reset policy {spelling!r}: the interval after 'every:' must be an integer, e.g. 'every:4'.",
    ):
        parse_reset_policy(spelling)


@pytest.mark.parametrize(("spelling", "k"), [("every:0", 0), ("every:-3", -3)])
def test_every_with_an_interval_below_one_is_refused(spelling, k):
    with raises_exactly(
        ConfigurationError, f"The reset interval k must be an int >= 1; got {k}. Use e.g. 'every:4'."
    ):
        parse_reset_policy(spelling)


@pytest.mark.parametrize("k", [0, True, 2.0])
def test_every_k_batches_refuses_a_k_that_is_not_a_positive_int(k):
    with raises_exactly(
        ConfigurationError, f"The reset interval k must be an int >= 1; got {k!r}. Use e.g. 'every:4'."
    ):
        EveryKBatches(k)


def test_reset_errors_are_value_errors_for_callers_that_catch_those():
    with pytest.raises(ValueError):
        parse_reset_policy("weekly")
