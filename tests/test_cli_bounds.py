"""Bounds checked before any work, and what a newcomer sees: the ``seqkit`` CLI through click's CliRunner.

The network's size is estimated from the options and the vocabulary and refused above a
bound the user can raise (``--max-parameters``), before TensorFlow is imported; a one-token
text, a ``--top-k`` beyond the vocabulary and a huge ``--temperature`` are refused with
what was expected; ``--unknown-token`` lets ``evaluate`` read unseen characters; the
summary says what each accuracy covers; tokens that are whitespace are shown visibly.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from rich.console import Console

from seqkit.cli.main import main
from seqkit.cli.options import (
    MAX_PARAMETERS,
    NETWORK_DEFAULTS,
    TEMPERATURE,
    TRAINER_NAMES,
    network_parameters,
)
from seqkit.cli.train_report import summary_rows

TINY = ["--epochs", "1", "--units", "4"]
BIG_NETWORK = (
    "Error: The network (8 x LSTM 16384 over 26 tokens) would hold 16,107,143,194 parameters and need 257.7 GB to "
    "train (float32 weights, gradients and Adam's two slots), more than the bound of 50,000,000 parameters "
    "(800.0 MB). Use fewer --units or --layers, or raise the bound with --max-parameters N."
)


def invoke(runner: CliRunner, args: list[str], **kwargs) -> Result:
    return runner.invoke(main, args, catch_exceptions=False, **kwargs)


def assert_clean_failure(result: Result, code: int, message: str) -> None:
    """Exit ``code``, the last stderr line is exactly ``message``, and no traceback anywhere."""
    assert result.exit_code == code, (result.exit_code, result.output)
    assert result.stderr.rstrip("\n").splitlines()[-1] == message
    assert "Traceback" not in result.output
    assert result.stdout == ""


def table_rows(text: str) -> dict[str, str]:
    """The label -> value rows of a two-column key-value table as printed."""
    rows = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip("│ ").split(" │ ")]
        if len(cells) == 2:
            rows[cells[0]] = cells[1]
    return rows


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Short texts, a text with whitespace tokens, and bundles trained on them."""
    folder = tmp_path_factory.mktemp("bounds")
    paths = {
        "one_token": folder / "t1.txt",
        "one_per_line": folder / "lines.txt",
        "spaced": folder / "spaced.txt",
        "unseen": folder / "unseen.txt",
        "bundle": folder / "alphabet.seqkit",
        "unknown": folder / "unknown.seqkit",
        "spaced_bundle": folder / "spaced.seqkit",
    }
    paths["one_token"].write_text("a", encoding="utf-8")
    paths["one_per_line"].write_text("a\nb\nc\n", encoding="utf-8")
    paths["spaced"].write_text("a b\ta b\na b\ta b\n" * 3, encoding="utf-8")
    paths["unseen"].write_text("ABC!DEFG", encoding="utf-8")
    for args in (
        ["train", "--window", "2", *TINY, "--out", str(paths["bundle"]), "-q"],
        ["train", "--window", "2", *TINY, "--unknown-token", "<unk>", "--out", str(paths["unknown"]), "-q"],
        ["train", "--text", str(paths["spaced"]), *TINY, "--out", str(paths["spaced_bundle"]), "-q"],
    ):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
    return paths


# The network's size ------------------------------------------------------------------
NETWORKS = [
    pytest.param(layout, encoding, cell, window, layers, id=f"{layout}-{encoding}-{cell}-w{window}-l{layers}")
    for layout in ("timesteps", "features")
    for encoding in ("scaled", "onehot", "embedding")
    for cell in ("lstm", "gru")
    for window, layers in ((1, 1), (3, 2))
]


@pytest.mark.parametrize(("layout", "encoding", "cell", "window", "layers"), NETWORKS)
def test_the_estimate_is_the_parameters_of_the_network_built(layout, encoding, cell, window, layers):
    from seqkit.layouts import make_layout
    from seqkit.models import ModelSpec, build_model

    spec = ModelSpec(units=5, layers=layers, cell=cell, embedding_dim=3)
    network = build_model(spec, make_layout(layout, encoding), window_length=window, vocabulary_size=7)
    assert network_parameters(
        layout, encoding, window_length=window, vocabulary_size=7, units=5, layers=layers, cell=cell, embedding_dim=3,
    ) == network.count_params()


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_the_estimate_of_a_stream_network_is_the_embedding_network_at_window_one(cell):
    from seqkit.models import ModelSpec, build_stream_model

    network = build_stream_model(ModelSpec(units=6, layers=2, cell=cell, embedding_dim=4), vocabulary_size=9)
    assert network_parameters(
        "timesteps", "embedding", window_length=1, vocabulary_size=9, units=6, layers=2, cell=cell, embedding_dim=4,
    ) == network.count_params()


def test_the_network_defaults_mirror_the_trainers():
    from seqkit.trainers import TRAINERS

    sizing = ("units", "layers", "cell", "embedding_dim", "window", "layout", "encoding")
    assert tuple(NETWORK_DEFAULTS) == TRAINER_NAMES
    for name, trainer in TRAINERS.items():
        parameters = inspect.signature(trainer).parameters
        assert NETWORK_DEFAULTS[name] == {key: parameters[key].default for key in sizing if key in parameters}, name


def test_the_bound_is_the_bundle_loaders():
    from seqkit.io.keras_config import MAX_PARAMETERS as LOADER_BOUND

    assert MAX_PARAMETERS == LOADER_BOUND


def test_a_network_above_the_bound_is_refused_with_its_parameters_and_memory(runner):
    result = invoke(runner, ["train", "--units", "16384", "--layers", "8", "--epochs", "1"])
    assert_clean_failure(result, 2, BIG_NETWORK)


def test_a_stream_network_is_sized_as_one_token_a_step_through_an_embedding(runner):
    result = invoke(runner, ["train", "--trainer", "stream", "--units", "16384", "--layers", "8"])
    assert_clean_failure(result, 2, (
        "Error: The network (8 x LSTM 16384 over 26 tokens) would hold 16,108,126,666 parameters and need 257.7 GB "
        "to train (float32 weights, gradients and Adam's two slots), more than the bound of 50,000,000 parameters "
        "(800.0 MB). Use fewer --units or --layers, or raise the bound with --max-parameters N."
    ))


def test_max_parameters_sets_the_bound(runner):
    refused = invoke(runner, ["train", "--units", "64", "--epochs", "1", "--max-parameters", "1000"])
    assert_clean_failure(refused, 2, (
        "Error: The network (1 x LSTM 64 over 26 tokens) would hold 18,586 parameters and need 297.4 kB to train "
        "(float32 weights, gradients and Adam's two slots), more than the bound of 1,000 parameters (16.0 kB). "
        "Use fewer --units or --layers, or raise the bound with --max-parameters N."
    ))
    trained = invoke(runner, ["train", "--units", "4", "--epochs", "1", "--max-parameters", "1000", "--json"])
    assert trained.exit_code == 0, trained.output
    assert json.loads(trained.stdout)["model"]["units"] == 4


@pytest.mark.slow  # trains and continues a model through the CLI, ~5 s
def test_max_parameters_does_not_apply_to_a_continued_model(runner, files):
    result = invoke(runner, ["train", "--init-from", str(files["bundle"]), "--max-parameters", "1000"])
    assert_clean_failure(result, 2, (
        "Error: --max-parameters applies to a new network: a model continued with --init-from keeps its own "
        "vocabulary and size; leave it out."
    ))


REFUSAL = """
import json, sys, time
started = time.perf_counter()
from seqkit.cli.main import main
try:
    main(["train", "--units", "16384", "--layers", "8", "--epochs", "1", "--json"])
except SystemExit as done:
    code = done.code
# VmHWM, this process's own peak: ru_maxrss also counts the pytest process it was forked from.
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"exit_code": code, "seconds": time.perf_counter() - started,
                  "tensorflow": "tensorflow" in sys.modules, "keras": "keras" in sys.modules,
                  "max_rss_kb": peak}), file=sys.stderr)
"""


def test_the_16384_x_8_network_is_refused_in_under_2_seconds_below_1_gb_before_tensorflow_is_imported():
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", REFUSAL], capture_output=True, text=True, timeout=60)
    seconds = time.perf_counter() - started
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert json.loads(done.stdout)["error"] == {"message": BIG_NETWORK.removeprefix("Error: "), "exit_code": 2}
    assert (report["exit_code"], report["tensorflow"], report["keras"]) == (2, False, False)
    assert seconds < 2.0, seconds
    assert report["max_rss_kb"] < 1024 * 1024, report["max_rss_kb"]


# Too little text -----------------------------------------------------------------------
def test_a_one_token_text_is_refused_with_what_training_needs(runner, files):
    result = invoke(runner, ["train", "--text", str(files["one_token"]), *TINY])
    assert_clean_failure(result, 1, (
        "Error: The corpus 't1.txt' holds 1 token: training needs at least 2, a token and the one that follows it. "
        "Give a longer text."
    ))


def test_documents_of_one_token_each_are_refused_with_what_training_needs(runner, files):
    result = invoke(runner, ["train", "--text", str(files["one_per_line"]), "--lines", *TINY])
    assert_clean_failure(result, 1, (
        "Error: No document of the corpus 'lines.txt' holds more than 1 token: training needs at least 2 in a "
        "document, a token and the one that follows it. Give longer documents."
    ))


# predict --top-k, generate --temperature ---------------------------------------------------
def test_top_k_beyond_the_vocabulary_is_a_usage_error_naming_its_size(runner, files):
    result = invoke(runner, ["predict", str(files["bundle"]), "AB", "-k", "1000"])
    assert_clean_failure(result, 2, (
        "Error: Invalid value for '--top-k' / '-k': 1000 is more than the 26 tokens of the model's vocabulary; "
        "give at most 26."
    ))


def test_top_k_may_be_the_whole_vocabulary(runner, files):
    result = invoke(runner, ["predict", str(files["bundle"]), "AB", "-k", "26", "--json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["predictions"]) == 26


@pytest.mark.parametrize(("value", "message"), [
    ("1e308", "1e+308 is not in the range 0.001<=x<=100.0."),
    ("100.5", "100.5 is not in the range 0.001<=x<=100.0."),
    ("inf", "inf is not a finite number."),
])
def test_the_temperature_type_is_bounded_above(value, message):
    with pytest.raises(click.BadParameter) as raised:
        TEMPERATURE.convert(value, None, None)
    assert raised.value.message == message


def test_the_temperature_type_takes_its_bounds():
    assert [TEMPERATURE.convert(value, None, None) for value in ("0.001", "100")] == [0.001, 100.0]


# --unknown-token --------------------------------------------------------------------------
def test_a_model_trained_with_an_unknown_token_evaluates_text_with_unseen_characters(runner, files):
    result = invoke(runner, ["evaluate", str(files["unknown"]), "--text", str(files["unseen"]), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["corpus"]["tokens"] == 8
    assert document["total"] == 6  # windows of 2 and their targets, the '!' read as '<unk>'


def test_the_unknown_token_is_the_last_id_of_the_vocabulary(files):
    from seqkit.sequence_model import SequenceModel

    vocabulary = SequenceModel.load(files["unknown"]).vocabulary
    assert (vocabulary.size, vocabulary.unknown_token, vocabulary.id_to_token(26)) == (27, "<unk>", "<unk>")


@pytest.mark.parametrize(("args", "message"), [
    (["train", "--unknown-token", ""],
     "Error: Invalid value for '--unknown-token': give a non-empty token without whitespace or control characters, "
     "e.g. '<unk>'; got ''."),
    (["train", "--unknown-token", "<u nk>"],
     "Error: Invalid value for '--unknown-token': give a non-empty token without whitespace or control characters, "
     "e.g. '<unk>'; got '<u nk>'."),
    (["train", "--text", "{spaced}", "--level", "bpe", "--unknown-token", "<unk>"],
     "Error: --unknown-token applies to --level char or word: a bpe tokenizer splits any text into its pieces, so "
     "it needs none."),
    (["train", "--init-from", "{bundle}", "--unknown-token", "<unk>"],
     "Error: --unknown-token applies to a new network: a model continued with --init-from keeps its own vocabulary "
     "and size; leave it out."),
], ids=["empty", "with-a-space", "subword", "init-from"])
def test_unknown_token_refusals(runner, files, args, message):
    result = invoke(runner, [arg.format(**files) for arg in args])
    assert_clean_failure(result, 2, message)


# What the summary says ----------------------------------------------------------------------
def test_the_window_summary_says_what_each_accuracy_covers(runner):
    result = invoke(runner, ["train", "--window", "2", *TINY])
    assert result.exit_code == 0, result.output
    rows = table_rows(result.stdout)
    assert rows["window"] == "2 tokens, 24 samples"
    assert {"training accuracy (last epoch)", "accuracy on the training windows"} <= set(rows)


@pytest.mark.slow  # a stream training through the CLI, ~5 s
def test_the_stream_summary_shows_segments_and_streams(runner, tmp_path):
    text = tmp_path / "long.txt"
    text.write_text("the quick brown fox jumps over the lazy dog\n" * 60, encoding="utf-8")  # 2640 characters
    args = ["train", "--trainer", "stream", "--text", str(text), "--window", "16", "--batch-size", "4", *TINY]
    result = invoke(runner, [*args, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["evaluation_windows"], report["training_windows"]) == (2000, 2639)  # every token but the first
    rows = dict(summary_rows(report))
    assert rows["segments"] == "16 steps x 4 streams, 164 segments (2624 tokens) per epoch"
    assert "window" not in rows
    assert {"training accuracy (last epoch)", "accuracy on the first 2,000 tokens"} <= set(rows)


def test_the_first_progress_line_estimates_the_time_left_from_epoch_1():
    from seqkit.cli.render import PlainLines

    now = [0.0]
    err = StringIO()
    lines = PlainLines(Console(file=err, width=80), interval=5.0, clock=lambda: now[0])
    lines.start("stream on book.txt", 10)
    now[0] = 8.0
    lines.update(1, 2.5, 0.3)
    assert err.getvalue().splitlines() == [
        "stream on book.txt: epoch 1/10 loss 2.5000 acc 30.00% elapsed 0:00:08 ETA ~0:01:12"
    ]


# Whitespace tokens in tables -----------------------------------------------------------------
def test_predict_shows_whitespace_tokens_visibly(runner, files):
    result = invoke(runner, ["predict", str(files["spaced_bundle"]), "a", "-k", "5"])
    assert result.exit_code == 0, result.output
    tokens = [line.split("│")[2].strip() for line in result.stdout.splitlines() if line.startswith("│")]
    assert sorted(tokens) == sorted(["a", "b", "␠", "\\t", "\\n"])


def test_the_mistakes_table_shows_whitespace_tokens_visibly(runner, files):
    result = invoke(runner, ["evaluate", str(files["spaced_bundle"]), "--text", str(files["spaced"]), "--show", "99"])
    assert result.exit_code == 0, result.output
    mistakes = result.stdout[result.stdout.index("Mistakes"):]
    lines = [line for line in mistakes.splitlines() if line.startswith("│")]
    rows = [[cell.strip() for cell in line.split("│")[1:4]] for line in lines]
    assert rows and all(all(row) for row in rows)  # no blank cell
    assert {"␠", "\\t", "\\n"} & {cell for row in rows for cell in row[1:]}


def test_predict_lists_the_whole_vocabulary_when_it_is_smaller_than_the_default(runner, tmp_path):
    path = tmp_path / "three.seqkit"
    trained = invoke(runner, ["train", "--tokens", "C D E C D E", "--units", "4", "--epochs", "1", "--out", str(path), "-q"])
    assert trained.exit_code == 0, trained.output
    result = invoke(runner, ["predict", str(path), "C D", "--json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["predictions"]) == 3


def test_inspect_shows_the_held_out_history_the_bundle_stores(runner, tmp_path):
    path = tmp_path / "held-out.seqkit"
    trained = invoke(runner, ["train", "--tokens", "C D E F G A B " * 8, "--window", "2", "--units", "4",
                              "--epochs", "3", "--validation-split", "0.2", "--out", str(path), "-q"])
    assert trained.exit_code == 0, trained.output
    labels = [line.strip("│ ").split(" │ ")[0].strip() for line in invoke(runner, ["inspect", str(path)]).stdout.splitlines()]
    assert {"held-out loss", "held-out accuracy"} <= set(labels)
