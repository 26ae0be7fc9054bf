"""Specification of `seqkit train --level bpe|unigram`: the tokenizer learns from the training split only."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from seqkit.corpora import sample_text
from seqkit.sequence_model import SequenceModel

TEXT = "".join(sample_text().tokens)
SECRET = " zyzzyva" * 20  # only in the held-out end of the text (shorter than its tenth)


def _train(runner, tmp_path, *args):
    from seqkit.cli.main import main

    (tmp_path / "text.txt").write_text(TEXT + SECRET, encoding="utf-8")
    return runner.invoke(main, [
        "train", "--trainer", "stream", "--text", str(tmp_path / "text.txt"), "--window", "16", "--batch-size", "4",
        "--units", "16", "--epochs", "1", "--out", str(tmp_path / "bpe.seqkit"), "--json", *args,
    ])


@pytest.mark.slow
@pytest.mark.parametrize("level", ["bpe", "unigram"])
def test_the_tokenizer_never_sees_the_held_out_text(runner, tmp_path, level):
    result = _train(runner, tmp_path, "--level", level, "--vocab-size", "300", "--test-split", "0.1")
    assert result.exit_code == 0, result.output
    model = SequenceModel.load(tmp_path / "bpe.seqkit")
    assert model.vocabulary.level == level
    assert not [piece for piece in model.vocabulary.tokens if "zyz" in model.vocabulary.join([piece])]
    test = json.loads(result.stdout)["test"]
    assert test["bits_per_character"] == pytest.approx(test["bits_per_token"] * test["tokens"] / test["characters"])
    assert test["characters"] < len(SECRET) + len(TEXT) // 10  # the characters of the test split's scored pieces


@pytest.mark.slow
def test_a_bpe_bundle_generates_text_in_a_fresh_process(runner, tmp_path):
    assert _train(runner, tmp_path, "--level", "bpe", "--vocab-size", "300").exit_code == 0
    code = (
        "from seqkit.sequence_model import SequenceModel\n"
        f"model = SequenceModel.load({str(tmp_path / 'bpe.seqkit')!r})\n"
        "model.reset()\n"
        "pieces = model.generate(model.vocabulary.split('def '), 12, temperature=0.8, seed=1)\n"
        "text = model.vocabulary.join(pieces)\n"
        "assert isinstance(text, str) and model.vocabulary.split(text) is not None\n"
        "print(len(pieces))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "12"


def test_vocab_size_applies_to_subword_levels_only(runner, tmp_path):
    result = _train(runner, tmp_path, "--vocab-size", "300")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: --vocab-size sets the pieces of a new subword tokenizer: it applies to --level bpe or unigram, "
        "without --init-from (a continued model keeps its own)."
    )
