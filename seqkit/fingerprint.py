"""A training run's fingerprint: what a checkpoint must agree with to be resumed.

The trainer, its hyperparameters (all but those a resumed run may change: ``epochs`` and
the checkpoint settings), a digest of the vocabulary and one of the corpus (its token
sequences, or a token file's ids read in pieces). :func:`differences` says, in words,
what differs between two fingerprints.

>>> a = fingerprint("StatelessTrainer", {"units": 8}, ["A", "B"], None, [["A", "B"]], "char")
>>> b = fingerprint("StatelessTrainer", {"units": 16}, ["A", "B"], None, [["A", "B"]], "char")
>>> differences(a, b)
["'units' is 8 there and 16 here"]
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from seqkit.streams import TokenFile

__all__ = ["differences", "digest", "fingerprint", "run_fingerprint", "token_file_fingerprint"]

_NOT_COMPARED = ("epochs", "checkpoint_dir", "checkpoint_every", "checkpoint_steps")
"""Hyperparameters that may change between a run and its resumption."""

def digest(document: Any) -> str:
    text = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fingerprint(
    trainer: str,
    hyperparameters: dict[str, Any],
    vocabulary_tokens: Sequence[str],
    unknown_token: str | None,
    sequences: Sequence[Sequence[str]],
    level: str,
) -> dict[str, Any]:
    """What a checkpoint must agree with to be resumed: configuration, vocabulary, corpus.

    Args:
        trainer: the trainer's class name.
        hyperparameters: JSON-ready hyperparameters; ``epochs`` and the checkpoint
            settings are left out.
        vocabulary_tokens: the vocabulary's tokens in id order.
        unknown_token: the vocabulary's unknown token, or None.
        sequences: the corpus's token sequences.
        level: the corpus's level, ``"char"`` or ``"word"``.

    Returns:
        A JSON-ready dict; two runs may share a checkpoint only if theirs are equal.

    >>> a = fingerprint("StatelessTrainer", {"units": 8, "epochs": 5}, ["A", "B"], None, [["A", "B"]], "char")
    >>> b = fingerprint("StatelessTrainer", {"units": 8, "epochs": 9}, ["A", "B"], None, [["A", "B"]], "char")
    >>> a == b, sorted(a)
    (True, ['corpus', 'hyperparameters', 'trainer', 'vocabulary'])
    """
    return {
        "trainer": trainer,
        "hyperparameters": {
            name: value for name, value in sorted(hyperparameters.items()) if name not in _NOT_COMPARED
        },
        "vocabulary": {
            "size": len(vocabulary_tokens),
            "sha256": digest([list(vocabulary_tokens), unknown_token]),
        },
        "corpus": {
            "level": level,
            "tokens": sum(len(sequence) for sequence in sequences),
            "sha256": digest([list(sequence) for sequence in sequences]),
        },
    }


def token_file_fingerprint(tokens: TokenFile) -> dict[str, Any]:
    """The corpus part of a fingerprint for a token file: its level, length, and a digest of its ids
    and document starts (read in 16 MiB pieces, never whole)."""
    digest = hashlib.sha256()
    digest.update(np.asarray(tokens.document_starts, dtype="<i8").tobytes())
    for start in range(0, tokens.length, 4 * 2**20):
        digest.update(np.ascontiguousarray(tokens.read(start, min(tokens.length, start + 4 * 2**20)), dtype="<i4").tobytes())
    return {"level": tokens.level, "tokens": tokens.length, "sha256": digest.hexdigest()}


def differences(saved: Any, current: Any, prefix: str = "") -> list[str]:
    """Human-readable differences between two fingerprints, e.g. ``'units' is 8 there and 16 here``."""
    if isinstance(saved, dict) and isinstance(current, dict):
        found: list[str] = []
        for key in sorted(set(saved) | set(current), key=str):
            label = f"{prefix}.{key}" if prefix and prefix != "hyperparameters" else str(key)
            if key not in saved:
                found.append(f"'{label}' is not set there and is {current[key]!r} here")
            elif key not in current:
                found.append(f"'{label}' is {saved[key]!r} there and not set here")
            else:
                found.extend(differences(saved[key], current[key], label))
        return found
    if saved != current:
        if prefix.endswith("sha256"):
            return [f"the {prefix.split('.')[0]} differs"]
        return [f"'{prefix}' is {saved!r} there and {current!r} here"]
    return []


def run_fingerprint(trainer: str, hyperparameters: dict[str, Any], vocabulary: Any, corpus: Any) -> dict[str, Any]:
    """The :func:`fingerprint` of a trainer's run on a :class:`~seqkit.datasets.Corpus` or a
    :class:`~seqkit.streams.TokenFile` (whose ids are digested in pieces, never loaded whole)."""
    if isinstance(corpus, TokenFile):
        record = fingerprint(trainer, hyperparameters, vocabulary.tokens, vocabulary.unknown_token, [], corpus.level)
        record["corpus"] = token_file_fingerprint(corpus)
        return record
    return fingerprint(
        trainer, hyperparameters, vocabulary.tokens, vocabulary.unknown_token, corpus.sequences, corpus.level
    )
