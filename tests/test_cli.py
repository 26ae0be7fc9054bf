"""The ``seqkit`` CLI through click's CliRunner: every command, its output and its errors.

Every bad input gets the exit status click's conventions give it (2: the
command line is wrong, 1: the data, file or model is) and an exact one-line
message, with no traceback. Training uses one or two epochs of a tiny network.
"""

from __future__ import annotations

import json
import os
from io import StringIO
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from rich.console import Console

from seqkit.cli.main import main
from seqkit.cli.options import ENCODING_NAMES, LAYOUT_NAMES, TRAINER_NAMES
from seqkit.cli.render import Consoles

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
TINY = ["--epochs", "1", "--units", "4"]


def invoke(runner: CliRunner, args: list[str], **kwargs) -> Result:
    return runner.invoke(main, args, catch_exceptions=False, **kwargs)


def assert_clean_failure(result: Result, code: int, message: str) -> None:
    """Exit ``code``, the last stderr line is exactly ``message``, and no traceback anywhere."""
    assert result.exit_code == code, (result.exit_code, result.output)
    assert result.stderr.rstrip("\n").splitlines()[-1] == message
    assert "Traceback" not in result.output
    assert result.stdout == ""


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Good and bad inputs on disk, and a window-2 alphabet bundle trained through the CLI."""
    folder = tmp_path_factory.mktemp("cli")
    paths = {
        "folder": folder,
        "latin1": folder / "latin1.txt",
        "empty": folder / "empty.txt",
        "blank": folder / "blank.txt",
        "notes": folder / "notes.txt",
        "not_a_bundle": folder / "notes.seqkit",
        "empty_bundle": folder / "empty.seqkit",
        "bundle": folder / "alphabet.seqkit",
    }
    paths["latin1"].write_bytes("Café".encode("latin-1"))
    paths["empty"].write_bytes(b"")
    paths["blank"].write_text("  \n\t ", encoding="utf-8")
    paths["notes"].write_text("C D E F G A B C\nC D E F G A B C\n", encoding="utf-8")
    paths["not_a_bundle"].write_text("just some text\n", encoding="utf-8")
    paths["empty_bundle"].write_bytes(b"")
    result = CliRunner().invoke(main, ["train", "--window", "2", *TINY, "--out", str(paths["bundle"]), "-q"])
    assert result.exit_code == 0, result.output
    return paths


# Bad inputs -------------------------------------------------------------------------
BAD_INPUTS = [
    # files and corpora: exit 1, the library's message
    (["train", "--text", "{folder}/missing.txt"], 1,
     "Error: Text file '{folder}/missing.txt' does not exist. Check the path."),
    (["train", "--text", "{folder}"], 1, "Error: '{folder}' is a directory; expected a UTF-8 text file."),
    (["train", "--text", "{latin1}"], 1,
     "Error: Text file '{latin1}' is not valid UTF-8 (byte 3: 0xe9). Convert it to UTF-8, e.g. with iconv."),
    (["train", "--text", "{empty}"], 1,
     "Error: Text file '{empty}' is empty: it holds no characters. Give a file with at least two tokens."),
    (["train", "--text", "{blank}", "--level", "word"], 1,
     "Error: Text file '{blank}' is empty: it holds no words. Give a file with at least two tokens."),
    (["train", "--tokens", ""], 1,
     "Error: The corpus 'tokens' is empty: it holds no tokens. "
     "Give a text, a file or a token list with at least two tokens."),
    (["train", "--tokens", "A B C", "--window", "3"], 1,
     "Error: Window length 3 must be shorter than the sequence it slides over (3 tokens). "
     "Use a window length of at most 2, or a longer corpus."),
    (["train", "--trainer", "stateful", "--batch-size", "30"], 1,
     "Error: The 'batch_size' parameter of StatefulTrainer must be at most the number of training windows (25) "
     "so that every stream holds one. Got 30 instead."),
    (["vocab", "--text", "{folder}/missing.txt"], 1,
     "Error: Text file '{folder}/missing.txt' does not exist. Check the path."),
    (["vocab", "--tokens", "A B", "--window", "2"], 1,
     "Error: Window length 2 must be shorter than the sequence it slides over (2 tokens). "
     "Use a window length of at most 1, or a longer corpus."),
    # bundles: exit 1
    (["predict", "{folder}/missing.seqkit", "AB"], 1,
     "Error: Bundle '{folder}/missing.seqkit' does not exist. "
     "Check the path, or save a model there with save_bundle(model, path)."),
    (["predict", "{not_a_bundle}", "AB"], 1,
     "Error: Bundle '{not_a_bundle}' is not a seqkit bundle: it is not a zip archive. "
     "Give a file written by save_bundle."),
    (["inspect", "{empty_bundle}"], 1,
     "Error: Bundle '{empty_bundle}' is empty (0 bytes); it is not a seqkit bundle. "
     "Save the model again with save_bundle."),
    (["generate", "{folder}", "--prime", "AB"], 1,
     "Error: Bundle '{folder}' is a directory; expected a .seqkit file written by save_bundle."),
    # what a model cannot read: exit 1
    (["predict", "{bundle}", "AB!"], 1,
     "Error: Token '!' is not in the vocabulary of 26 tokens ('A', 'B', 'C', 'D', 'E', …). Use only tokens "
     "of the vocabulary, or build it with unknown_token='<unk>' to map unknown tokens to one id."),
    (["predict", "{bundle}", "A"], 1,
     "Error: This model reads windows of 2 tokens; got 1 (A). Give at least 2 tokens."),
    (["evaluate", "{bundle}", "--text", "{notes}"], 1,
     "Error: Token ' ' is not in the vocabulary of 26 tokens ('A', 'B', 'C', 'D', 'E', …). Use only tokens "
     "of the vocabulary, or build it with unknown_token='<unk>' to map unknown tokens to one id."),
    # the command line itself: exit 2
    (["train", "--window", "0"], 2, "Error: Invalid value for '--window': 0 is not in the range x>=1."),
    (["train", "--epochs", "-3"], 2, "Error: Invalid value for '--epochs': -3 is not in the range x>=1."),
    (["train", "--units", "0"], 2, "Error: Invalid value for '--units': 0 is not in the range x>=1."),
    (["train", "--learning-rate", "0"], 2,
     "Error: Invalid value for '--learning-rate': 0.0 is not in the range x>0."),
    (["train", "--seed", "-1"], 2, "Error: Invalid value for '--seed': -1 is not in the range 0<=x<=4294967295."),
    (["train", "--until-accuracy", "1.5"], 2,
     "Error: Invalid value for '--until-accuracy': 1.5 is not in the range 0<x<=1."),
    (["train", "--trainer", "stateful", "--reset", "every:0"], 2,
     "Error: Invalid value for '--reset': The reset interval k must be an int >= 1; got 0. Use e.g. 'every:4'."),
    (["train", "--trainer", "stateful", "--reset", "sometimes"], 2,
     "Error: Invalid value for '--reset': Unknown reset policy 'sometimes': "
     "expected 'epoch', 'boundary', 'every:K' (K >= 1) or 'never'."),
    (["train", "--reset", "every:2"], 2, "Error: --reset does not apply to --trainer stateless: only stateful and stream training carry a state to reset."),
    (["train", "--trainer", "in-batch", "--batch-size", "4"], 2,
     "Error: --batch-size does not apply to --trainer in-batch: it trains on the whole dataset as one batch."),
    (["train", "--trainer", "stateful", "--strategy", "mirrored"], 2,
     "Error: --strategy does not apply to --trainer stateful (one state for all replicas); "
     "use --trainer stream, which gives each replica its own streams."),
    (["train", "--trainer", "stream", "--strategy", "tpu"], 2,
     "Error: Invalid value for '--strategy': 'tpu' is not one of 'default', 'mirrored', 'multi-worker'."),
    (["train", "--trainer", "stream", "--stride", "2"], 2,
     "Error: --stride does not apply to --trainer stream: its segments follow each other."),
    (["train", "--trainer", "stateful", "--jit", "sometimes"], 2,
     "Error: Invalid value for '--jit': 'sometimes' is not one of 'auto', 'on', 'off'."),
    (["train", "--trainer", "bogus"], 2,
     "Error: Invalid value for '--trainer': 'bogus' is not one of 'stateless', 'in-batch', 'stateful', 'stream'."),
    (["train", "--alphabet", "--tokens", "A B"], 2, "Error: Give one data source, not --alphabet and --tokens."),
    (["train", "--tokens", "A B", "--level", "word"], 2,
     "Error: --level applies to --text only; --tokens are always split on whitespace."),
    (["predict", "{bundle}", "AB", "--top-k", "0"], 2,
     "Error: Invalid value for '--top-k' / '-k': 0 is not in the range x>=1."),
    (["generate", "{bundle}"], 2, "Error: Missing option '--prime'."),
    (["generate", "{bundle}", "--prime", "AB", "--steps", "0"], 2,
     "Error: Invalid value for '--steps': 0 is not in the range x>=1."),
    (["generate", "{bundle}", "--prime", "AB", "--temperature", "-1"], 2,
     "Error: Invalid value for '--temperature': -1.0 is not in the range x>0."),
    (["generate", "{bundle}", "--prime", "AB", "--seed", "3"], 2,
     "Error: --seed applies to sampling only; give --temperature too."),
    (["experiments", "nope"], 2,
     "Error: Invalid value for '[NAME]...': Unknown experiment 'nope': expected one of one-char, "
     "window-features, window-timesteps, in-batch, stateful, variable-length."),
    (["experiments", "--epochs", "0"], 2, "Error: Invalid value for '--epochs': 0 is not in the range x>=1."),
    (["frobnicate"], 2, "Error: No such command 'frobnicate'."),
]


@pytest.mark.parametrize(
    ("args", "code", "message"), BAD_INPUTS, ids=[f"{number:02d}-{args[0]}" for number, (args, _, _) in enumerate(BAD_INPUTS)]
)
def test_bad_input_exits_with_one_line_message(runner, files, args, code, message):
    fill = {name: str(path) for name, path in files.items()}
    result = invoke(runner, [arg.format(**fill) for arg in args])
    assert_clean_failure(result, code, message.format(**fill))


def test_non_utf8_standard_input_is_refused(runner):
    result = invoke(runner, ["train", "--text", "-"], input=b"AB\xffC")
    assert_clean_failure(
        result, 1, "Error: Standard input is not valid UTF-8 (byte 2: 0xff). Convert it to UTF-8, e.g. with iconv."
    )


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_is_refused(runner, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("ABC", encoding="utf-8")
    secret.chmod(0)
    try:
        result = invoke(runner, ["train", "--text", str(secret)])
    finally:
        secret.chmod(0o600)
    assert_clean_failure(result, 1, f"Error: Text file '{secret}' cannot be read: Permission denied.")


def test_interrupted_training_keeps_the_existing_bundle(runner, files, tmp_path, monkeypatch):
    import seqkit.trainers

    out = tmp_path / "model.seqkit"
    out.write_bytes(files["bundle"].read_bytes())
    before = out.read_bytes()

    def interrupted_fit(self, data, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(seqkit.trainers.StatelessTrainer, "fit", interrupted_fit)
    result = invoke(runner, ["train", "--epochs", "5", "--out", str(out)])
    assert_clean_failure(result, 130, f"Interrupted: training stopped at epoch 0 of 5; '{out}' was not changed.")
    assert out.read_bytes() == before


def test_interrupted_experiments_say_what_finished(runner, monkeypatch):
    import seqkit.experiments

    def interrupted(name, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(seqkit.experiments, "run_experiment", interrupted)
    result = invoke(runner, ["experiments", "stateful", "--epochs", "3"])
    assert_clean_failure(result, 130, "Interrupted: stateful stopped at epoch 0 of 3; finished experiments: none.")


# Root -------------------------------------------------------------------------------
def test_version(runner):
    result = invoke(runner, ["--version"])
    assert (result.exit_code, result.stdout) == (0, "seqkit, version 0.1.0\n")


def test_help_lists_every_command(runner):
    result = invoke(runner, ["--help"])
    assert result.exit_code == 0
    commands = result.stdout.split("Commands:")[1].split()
    for name in ("evaluate", "experiments", "generate", "inspect", "predict", "train", "vocab"):
        assert name in commands


@pytest.mark.parametrize("command", ["experiments", "train", "predict", "generate", "evaluate", "inspect", "vocab"])
def test_every_command_takes_json_and_quiet(runner, command):
    result = invoke(runner, [command, "--help"])
    assert result.exit_code == 0
    assert "--json" in result.stdout and "--quiet" in result.stdout


def test_choices_mirror_the_library():
    from seqkit.layouts import ENCODINGS, LAYOUTS
    from seqkit.trainers import TRAINERS

    assert TRAINER_NAMES == tuple(TRAINERS)
    assert set(LAYOUT_NAMES) == set(LAYOUTS)
    assert set(ENCODING_NAMES) == set(ENCODINGS)


# vocab ------------------------------------------------------------------------------
def test_vocab_json(runner):
    result = invoke(runner, ["vocab", "--tokens", "C D E C D", "--window", "2", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "corpus": "tokens",
        "level": "word",
        "tokens": 5,
        "vocabulary": ["C", "D", "E"],
        "counts": [2, 2, 1],
        "windows": 3,
        "saved_to": None,
    }
    assert result.stderr == ""


def test_vocab_table_goes_to_the_injected_console(runner, files):
    out, err = StringIO(), StringIO()
    consoles = Consoles(out=Console(file=out, width=100), err=Console(file=err, width=100))
    result = invoke(runner, ["vocab", "--text", str(files["notes"]), "--level", "word"], obj=consoles)
    assert result.exit_code == 0 and result.stdout == ""
    lines = [line.strip("│ ").split() for line in out.getvalue().splitlines()]
    assert ["vocabulary", "size", "│", "7"] in lines
    assert ["0", "│", "C", "│", "4"] in lines
    assert ["6", "│", "B", "│", "2"] in lines


def test_vocab_reads_standard_input_and_saves(runner, tmp_path):
    from seqkit.vocab import Vocabulary

    saved = tmp_path / "vocab.json"
    result = invoke(runner, ["vocab", "--text", "-", "--save", str(saved), "--json"], input="BANANA")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["vocabulary"] == ["B", "A", "N"]
    assert Vocabulary.load(saved).tokens == ("B", "A", "N")


# train ------------------------------------------------------------------------------
def test_train_json_is_one_document_and_the_bundle_loads(runner, tmp_path):
    from seqkit.sequence_model import SequenceModel

    out = tmp_path / "scale.seqkit"
    args = ["train", "--tokens", "C D E F G A B C D E", "--window", "2", "--encoding", "onehot", *TINY]
    result = invoke(runner, [*args, "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert result.stderr == ""
    assert (report["trainer"], report["epochs"], report["samples"], report["vocabulary_size"]) == (
        "StatelessTrainer", 1, 8, 7)
    assert report["layout"] == {"layout": "timesteps", "encoding": "onehot"}
    assert report["bundle"] == str(out)
    assert SequenceModel.load(out).vocabulary.tokens == ("C", "D", "E", "F", "G", "A", "B")


def test_quiet_stateful_training_stops_at_the_target_accuracy(runner):
    args = ["train", "--tokens", "A A A A A A", "--trainer", "stateful", "--reset", "every:2", "--batch-size", "2"]
    result = invoke(runner, ["-q", *args, "--epochs", "50", "--units", "2", "--until-accuracy", "0.5"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    cells = {tuple(cell.strip() for cell in line.strip("│ ").split(" │ ")) for line in result.stdout.splitlines()}
    assert {("trainer", "StatefulTrainer"), ("reset", "every:2"), ("epochs", "1 (3 steps)")} <= cells


def test_train_shows_progress_on_stderr_and_the_summary_on_stdout(runner):
    result = invoke(runner, ["train", "--tokens", "A B A B A B", *TINY])
    assert result.exit_code == 0
    assert result.stderr.splitlines()[0] == "Training stateless on tokens (6 tokens) for 1 epochs..."
    assert "epoch 1/1" in result.stderr
    assert result.stderr.splitlines()[-1] == "Not saved: pass --out FILE.seqkit to keep the model."
    assert "training accuracy" in result.stdout and "epoch 1/1" not in result.stdout


# predict, generate, evaluate, inspect ------------------------------------------------
def test_predict_json_ranks_the_whole_vocabulary(runner, files):
    result = invoke(runner, ["predict", str(files["bundle"]), "XY", "--top-k", "99", "--json"])
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    probabilities = [p["probability"] for p in document["predictions"]]
    assert document["context"] == ["X", "Y"]
    assert sorted(p["token"] for p in document["predictions"]) == list(ALPHABET)
    assert probabilities == sorted(probabilities, reverse=True)
    assert sum(probabilities) == pytest.approx(1.0, abs=1e-4)


def test_predict_table(runner, files):
    result = invoke(runner, ["predict", str(files["bundle"]), "AB", "-k", "3"])
    assert result.exit_code == 0
    assert "Next token after 'AB'" in result.stdout
    rows = [line.strip("│ ").split(" │ ") for line in result.stdout.splitlines() if line.startswith("│")]
    assert [row[0].strip() for row in rows] == ["1", "2", "3"]
    assert all(row[1].strip() in ALPHABET and 0 < float(row[2]) < 1 for row in rows)


def test_generate_greedy_json(runner, files):
    result = invoke(runner, ["generate", str(files["bundle"]), "--prime", "AB", "--steps", "5", "--json"])
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["prime"] == ["A", "B"] and len(document["generated"]) == 5
    assert document["text"] == "AB" + "".join(document["generated"])


def test_generate_with_temperature_and_seed_repeats(runner, files):
    args = ["generate", str(files["bundle"]), "--prime", "AB", "--steps", "8", "--temperature", "1.5", "--seed", "3"]
    first, second = invoke(runner, args), invoke(runner, args)
    assert first.exit_code == 0 and first.stdout == second.stdout
    assert first.stdout.startswith("AB") and len(first.stdout.strip()) == 10


def test_evaluate_json_scores_every_window(runner, files):
    result = invoke(runner, ["evaluate", str(files["bundle"]), "--json"])
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["total"] == 24
    assert document["correct"] == 24 - len(document["mistakes"])
    assert document["accuracy"] == pytest.approx(document["correct"] / 24)


def test_evaluate_lists_mistakes(runner, files):
    result = invoke(runner, ["evaluate", str(files["bundle"]), "--tokens", "A B C D E F", "--show", "1"])
    assert result.exit_code == 0
    cells = {tuple(cell.strip() for cell in line.strip("│ ").split(" │ ")) for line in result.stdout.splitlines()}
    assert ("windows", "4") in cells and ("data", "tokens: 6 tokens") in cells
    assert ("input", "expected", "predicted") in {tuple(c.strip() for c in line.strip("┃ ").split(" ┃ "))
                                                 for line in result.stdout.splitlines()}
    mistakes = 4 - int(dict(cell for cell in cells if len(cell) == 2)["correct"])
    if mistakes > 1:
        assert f"... and {mistakes - 1} more (--show N lists more)." in result.stdout


def test_inspect_json(runner, files):
    result = invoke(runner, ["inspect", str(files["bundle"]), "--json"])
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["vocabulary"] == list(ALPHABET)
    assert (document["window_length"], document["stateful"], document["format_version"]) == (2, False, 1)
    assert document["spec"]["trainer"] == "StatelessTrainer"
    assert len(document["history"]["loss"]) == 1


def test_inspect_table(runner, files):
    result = invoke(runner, ["inspect", str(files["bundle"])])
    assert result.exit_code == 0
    for label in ("trainer", "stateful", "layout", "window length", "vocabulary", "units", "epochs trained"):
        assert f"│ {label} " in result.stdout


# experiments ------------------------------------------------------------------------
def test_experiments_list_json(runner):
    result = invoke(runner, ["experiments", "--list", "--json"])
    assert result.exit_code == 0
    names = [experiment["name"] for experiment in json.loads(result.stdout)["experiments"]]
    assert names == ["one-char", "window-features", "window-timesteps", "in-batch", "stateful", "variable-length"]


def test_experiments_table_shows_both_accuracies_and_the_stateful_probes(runner):
    out, err = StringIO(), StringIO()
    consoles = Consoles(out=Console(file=out, width=140), err=Console(file=err, width=140))
    result = invoke(runner, ["experiments", "stateful", "--epochs", "1"], obj=consoles)
    assert result.exit_code == 0
    table = out.getvalue()
    header = next(line for line in table.splitlines() if line.split()[:1] == ["experiment"]).split()
    assert header == ["experiment", "layout", "trainer", "epochs", "tutorial", "seqkit", "time", "generated"]
    assert "stateful" in table and "100.00%" in table and "A → " in table
    assert "cold K → " in table and "A..J, K → " in table
    assert "epoch 1/1" in err.getvalue()


def test_train_keeps_each_trainers_own_defaults_for_options_not_given(runner):
    result = invoke(runner, ["train", "--trainer", "in-batch", "--epochs", "2", "--json"])
    assert result.exit_code == 0, result.output
    hyperparameters = json.loads(result.stdout)["hyperparameters"]
    assert (hyperparameters["units"], hyperparameters["epochs"]) == (16, 2)


def test_train_passes_the_options_given_over_the_trainers_defaults(runner):
    result = invoke(runner, ["train", "--trainer", "in-batch", "--epochs", "2", "--units", "4", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["hyperparameters"]["units"] == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--trainer", "stream", "--reset", "every:2"],
         "Error: --trainer stream resets at 'epoch' or 'boundary' only; got --reset every:2."),
        (["--trainer", "stream", "--checkpoint", "run"],
         "Error: --checkpoint does not apply to --trainer stream yet: stream training writes no checkpoints."),
    ],
)
def test_stream_training_options_that_do_not_apply_are_usage_errors(runner, args, message):
    result = invoke(runner, ["train", *args])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == message
