"""The read side of the CLI with a subword model: generate, predict, inspect and export read its tokenizer."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from seqkit.cli.main import main
from seqkit.cli.options import LEVEL_NAMES, SUBWORD_LEVEL_NAMES, DataSource, split_context
from seqkit.cli.render import join_tokens
from seqkit.corpora import python_stdlib_files
from seqkit.datasets import Corpus
from seqkit.subword import SUBWORD_LEVELS, SubwordVocabulary
from seqkit.vocab import Vocabulary

PROMPT = "def main():\n    "


def invoke(runner: CliRunner, args: list[str], **kwargs) -> Result:
    return runner.invoke(main, args, catch_exceptions=False, **kwargs)


@pytest.fixture(scope="module")
def model_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A BPE bundle trained on some standard-library source, and a text file."""
    from seqkit.trainers import StatelessTrainer

    folder = tmp_path_factory.mktemp("subword-cli")
    text = "".join(path.read_text(encoding="utf-8") for path in python_stdlib_files(max_bytes=20_000))
    vocabulary = SubwordVocabulary.train(text, kind="bpe", vocab_size=320)
    model, _ = StatelessTrainer(window=3, encoding="embedding", units=8, epochs=1).fit(
        Corpus.from_text(text[:6000], vocabulary=vocabulary, name="stdlib")
    )
    model.save(folder / "code.seqkit")
    (folder / "code.txt").write_text(text[6000:7000], encoding="utf-8")
    return {"bundle": folder / "code.seqkit", "text": folder / "code.txt", "folder": folder}


@pytest.fixture(scope="module")
def vocabulary(model_files) -> SubwordVocabulary:
    from seqkit.sequence_model import SequenceModel

    return SequenceModel.load(model_files["bundle"]).vocabulary


def test_the_cli_names_the_librarys_subword_levels():
    assert SUBWORD_LEVEL_NAMES == SUBWORD_LEVELS
    assert LEVEL_NAMES == ("char", "word", "bpe", "unigram")


def test_generate_splits_the_prime_with_the_models_tokenizer_and_joins_what_it_generates(
    runner, model_files, vocabulary
):
    result = invoke(runner, ["generate", str(model_files["bundle"]), "--prime", PROMPT, "--steps", "6", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["prime"] == vocabulary.split(PROMPT)
    assert len(document["generated"]) == 6
    assert document["text"] == vocabulary.join(document["prime"] + document["generated"])
    assert document["text"].startswith(PROMPT)


def test_generate_shows_the_text_not_the_pieces(runner, model_files, vocabulary):
    args = ["generate", str(model_files["bundle"]), "--prime", "import os", "--steps", "4"]
    shown = invoke(runner, args).stdout
    document = json.loads(invoke(runner, [*args, "--json"]).stdout)
    assert shown == document["text"] + "\n"
    assert shown.startswith("import os")


def test_predict_reads_the_context_as_text(runner, model_files, vocabulary):
    result = invoke(runner, ["predict", str(model_files["bundle"]), "import os", "-k", "3", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["context"] == vocabulary.split("import os")
    assert [p["text"] for p in document["predictions"]] == [vocabulary.join([p["token"]]) for p in document["predictions"]]


def test_predict_shows_the_context_and_each_pieces_text(runner, model_files):
    args = ["predict", str(model_files["bundle"]), "import os", "-k", "2"]
    result = invoke(runner, args)
    assert result.exit_code == 0, result.output
    assert "Next token after 'import os'" in result.stdout
    shown = [line.strip("│ ").split(" │ ")[1].strip() for line in result.stdout.splitlines() if line.startswith("│")]
    texts = [p["text"] for p in json.loads(invoke(runner, [*args, "--json"]).stdout)["predictions"]]
    from seqkit.cli.render import visible_token

    assert shown == [visible_token(text) for text in texts]  # a piece's text, its whitespace visible


def test_inspect_names_the_level_and_the_pieces(runner, model_files, vocabulary):
    document = json.loads(invoke(runner, ["inspect", str(model_files["bundle"]), "--json"]).stdout)
    assert (document["level"], document["vocabulary"]) == ("bpe", list(vocabulary.tokens))
    table = invoke(runner, ["inspect", str(model_files["bundle"])]).stdout
    assert f"{vocabulary.size} tokens (bpe pieces, Ġ a space, Ċ a newline)" in table


def test_export_of_a_subword_model_fails_in_one_line(runner, model_files):
    out = model_files["folder"] / "code.keras"
    result = invoke(runner, ["export", str(model_files["bundle"]), "--format", "keras", "--out", str(out)])
    assert result.exit_code == 1
    assert result.stderr.rstrip("\n").splitlines()[-1] == (
        "Error: Export of a model with a BPE vocabulary is not supported: its tokenizer cannot run inside the "
        "TensorFlow graph. Export a char or word model, or serve this one with seqkit (SequenceModel.load + generate)."
    )
    assert "Traceback" not in result.output and not out.exists()


def test_text_at_a_subword_level_is_split_by_the_models_vocabulary(model_files, vocabulary):
    corpus = DataSource(text_paths=(str(model_files["text"]),)).load(default_level="bpe", vocabulary=vocabulary)
    assert (corpus.level, corpus.subword) == ("bpe", vocabulary)
    assert vocabulary.join(corpus.tokens) == model_files["text"].read_text(encoding="utf-8")


def test_several_documents_at_a_subword_level_are_each_split(model_files, vocabulary):
    path = str(model_files["text"])
    corpus = DataSource(text_paths=(path, path)).load(default_level="bpe", vocabulary=vocabulary)
    assert len(corpus.sequences) == 2 and corpus.sequences[0] == corpus.sequences[1]


def test_a_subword_level_without_a_subword_model_is_a_usage_error(model_files):
    source = DataSource(text_paths=(str(model_files["text"]),), level="unigram")
    with pytest.raises(click.UsageError) as caught:
        source.load(vocabulary=Vocabulary(["a"]))
    assert caught.value.message == (
        "--level unigram splits --text with a trained unigram tokenizer, which only a unigram model has; "
        "use --level char or word here."
    )


def test_char_level_text_ignores_a_subword_vocabulary(model_files, vocabulary):
    source = DataSource(text_paths=(str(model_files["text"]),), level="char")
    assert source.load(default_level="bpe", vocabulary=vocabulary).level == "char"


def test_split_context_and_join_tokens_speak_pieces_at_a_subword_level(vocabulary):
    pieces = split_context("x = 1\n", "bpe", vocabulary)
    assert pieces == vocabulary.split("x = 1\n")
    assert join_tokens(pieces, "bpe", vocabulary) == "x = 1\n"
    assert (join_tokens(["a", "b"], "char"), join_tokens(["a", "b"], "word")) == ("ab", "a b")


def test_join_tokens_needs_the_vocabulary_of_subword_pieces():
    with pytest.raises(TypeError, match=r"^join_tokens needs the model's vocabulary to join bpe pieces; pass vocabulary=\.$"):
        join_tokens(["Ġa"], "bpe")
