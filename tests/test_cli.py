"""The ``seqkit`` CLI through click's CliRunner: every command, its output and its errors.

Every bad input gets the exit status click's conventions give it (2: the
command line is wrong, 1: the data, file or model is) and an exact one-line
message, with no traceback. Training uses one or two epochs of a tiny network.
"""

from __future__ import annotations

import json
import math
import os
from io import StringIO
from pathlib import Path

import pytest

import seqkit
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
        "no_documents": folder / "no-documents",
    }
    paths["no_documents"].mkdir()
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
    (["train", "--text", "{no_documents}"], 1,
     "Error: Folder '{no_documents}' holds no text files; put one document per file in it, or give a file."),
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
    (["train", "--units", "0"], 2, "Error: Invalid value for '--units': 0 is not in the range 1<=x<=16384."),
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
    (["train", "--trainer", "stateful", "--kernel", "on"], 2,
     "Error: --kernel does not apply to --trainer stateful: seqkit's LSTM kernel trains stream models only "
     "(--trainer stream)."),
    (["train", "--trainer", "stream", "--kernel", "sometimes"], 2,
     "Error: Invalid value for '--kernel': 'sometimes' is not one of 'auto', 'on', 'off'."),
    (["train", "--trainer", "bogus"], 2,
     "Error: Invalid value for '--trainer': 'bogus' is not one of 'stateless', 'in-batch', 'stateful', 'stream'."),
    (["train", "--alphabet", "--tokens", "A B"], 2, "Error: Give one data source, not --alphabet and --tokens."),
    (["train", "--tokens", "A B", "--level", "word"], 2,
     "Error: --level applies to --text only; --tokens are always split on whitespace."),
    (["predict", "{bundle}", "AB", "--top-k", "0"], 2,
     "Error: Invalid value for '--top-k' / '-k': 0 is not in the range x>=1."),
    (["generate", "{bundle}"], 2, "Error: Missing option '--prime'."),
    (["generate", "{bundle}", "--prime", "AB", "--steps", "0"], 2,
     "Error: Invalid value for '--steps' / '--max-steps': 0 is not in the range 1<=x<=1000000."),
    (["generate", "{bundle}", "--prime", "AB", "--temperature", "-1"], 2,
     "Error: Invalid value for '--temperature': -1.0 is not in the range 0.001<=x<=100.0."),
    (["generate", "{bundle}", "--prime", "AB", "--temperature", "1e-39"], 2,
     "Error: Invalid value for '--temperature': 1e-39 is not in the range 0.001<=x<=100.0."),
    (["generate", "{bundle}", "--prime", "AB", "--temperature", "nan"], 2,
     "Error: Invalid value for '--temperature': nan is not a finite number."),
    (["generate", "{bundle}", "--prime", "AB", "--temperature", "1", "--seed", "9223372036854775808"], 2,
     "Error: Invalid value for '--seed': 9223372036854775808 is not in the range 0<=x<=9223372036854775807."),
    (["train", "--learning-rate", "inf"], 2, "Error: Invalid value for '--learning-rate': inf is not a finite number."),
    (["train", "--dropout", "nan"], 2, "Error: Invalid value for '--dropout': nan is not a finite number."),
    (["train", "--until-accuracy", "nan"], 2, "Error: Invalid value for '--until-accuracy': nan is not a finite number."),
    (["train", "--units", "40000"], 2, "Error: Invalid value for '--units': 40000 is not in the range 1<=x<=16384."),
    (["train", "--startup-timeout", "5"], 2, "Error: --startup-timeout applies to --strategy multi-worker only."),
    (["train", "--lines"], 2, "Error: --lines applies to --text only: it makes each line of the text a document."),
    (["train", "--text", "-", "--text", "-"], 2, "Error: Invalid value for '--text': '-' (standard input) can be read once."),
    (["evaluate", "{folder}/missing.seqkit", "--alphabet", "--tokens", "A"], 2,
     "Error: Give one data source, not --alphabet and --tokens."),
    # output paths: checked before any training, exit 2
    (["train", "--text", "{notes}", "--out", "{notes}"], 2,
     "Error: --out '{notes}' is also the --text input; writing it would destroy the input. Give another path."),
    (["train", "--out", "{folder}/curves.png", "--plot", "{folder}/curves.png"], 2,
     "Error: --out and --plot name the same path '{folder}/curves.png'; give each its own."),
    (["vocab", "--text", "{notes}", "--save", "{notes}"], 2,
     "Error: --save '{notes}' is also the --text input; writing it would destroy the input. Give another path."),
    (["train", "--out", "/dev/null"], 2,
     "Error: Invalid value for '--out': '/dev/null' is a character device, not a regular file; give the path of a "
     "file to create or replace."),
    (["train", "--out", "{notes}/model.seqkit"], 2,
     "Error: Invalid value for '--out': cannot create '{notes}/model.seqkit': '{notes}' is not a folder."),
    (["train", "--checkpoint", "{folder}/logs", "--tensorboard", "{folder}/logs"], 2,
     "Error: --checkpoint and --tensorboard name the same path '{folder}/logs'; give each its own."),
    (["train", "--out", "model\0.seqkit"], 2, "Error: Invalid value for '--out': the path contains a NUL byte."),
    (["experiments", "stateful", "--tensorboard", "/dev/null"], 2,
     "Error: Invalid value for '--tensorboard': '/dev/null' is a character device; give a folder to write in."),
    (["generate", "{bundle}", "--prime", "AB", "--seed", "3"], 2,
     "Error: --seed applies to sampling only; give --temperature, --top-k or --top-p too."),
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
    assert (result.exit_code, result.stdout) == (0, f"seqkit, version {seqkit.__version__}\n")


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
        "documents": 1,
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
    result = invoke(runner, ["predict", str(files["bundle"]), "XY", "--top-k", "26", "--json"])
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
        (["--trainer", "stream", "--stride", "2"],
         "Error: --stride does not apply to --trainer stream: its segments follow each other."),
        (["--trainer", "in-batch", "--batch-size", "2"],
         "Error: --batch-size does not apply to --trainer in-batch: it trains on the whole dataset as one batch."),
        (["--checkpoint-steps", "5"],
         "Error: --checkpoint-steps needs --checkpoint DIR: the folder the training state is saved in."),
    ],
)
def test_stream_training_options_that_do_not_apply_are_usage_errors(runner, args, message):
    result = invoke(runner, ["train", *args])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == message


# Output paths: checked before any work -------------------------------------------------
def test_an_output_on_the_input_is_refused_before_training_and_writes_nothing(runner, tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("ABCABCABC", encoding="utf-8")
    result = invoke(runner, ["train", "--text", str(corpus), "--out", str(corpus), "--epochs", "500"])
    assert_clean_failure(
        result, 2, f"Error: --out '{corpus}' is also the --text input; writing it would destroy the input. "
        "Give another path.")
    assert "Training" not in result.stderr
    assert corpus.read_text(encoding="utf-8") == "ABCABCABC"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["corpus.txt"]


def test_an_output_through_a_symbolic_link_replaces_the_file_and_keeps_the_link(runner, tmp_path):
    from seqkit.sequence_model import SequenceModel

    target, link = tmp_path / "real.seqkit", tmp_path / "link.seqkit"
    target.write_bytes(b"old")
    link.symlink_to(target)
    result = invoke(runner, ["train", *TINY, "--out", str(link), "-q"])
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and SequenceModel.load(target).window_length == 1


def test_a_link_to_a_folder_is_refused_as_a_bundle(runner, tmp_path):
    link = tmp_path / "model.seqkit"
    link.symlink_to(tmp_path)
    result = invoke(runner, ["train", "--out", str(link)])
    assert_clean_failure(result, 2, f"Error: Invalid value for '--out': File '{link}' is a directory.")


# JSON ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["train", "--window", "0", "--json"], 2, "Invalid value for '--window': 0 is not in the range x>=1."),
        (["train", "--alphabet", "--tokens", "A B", "--json"], 2, "Give one data source, not --alphabet and --tokens."),
        (["inspect", "{folder}/missing.seqkit", "--json"], 1,
         "Bundle '{folder}/missing.seqkit' does not exist. Check the path, or save a model there with "
         "save_bundle(model, path)."),
    ],
)
def test_json_errors_are_a_json_object_on_stdout_and_a_line_on_stderr(runner, files, args, code, message):
    fill = {name: str(path) for name, path in files.items()}
    result = invoke(runner, [arg.format(**fill) for arg in args])
    assert result.exit_code == code
    assert json.loads(result.stdout) == {"error": {"message": message.format(**fill), "exit_code": code}}
    assert result.stderr.rstrip("\n").splitlines()[-1] == "Error: " + message.format(**fill)


def test_json_is_rfc_valid_with_nan_and_control_characters():
    from seqkit.cli.render import to_json

    text = to_json({"loss": float("nan"), "history": [float("inf"), 0.5], "token": "\x1b[2J\x9b"})

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")

    assert json.loads(text, parse_constant=refuse) == {"loss": None, "history": [None, 0.5], "token": "\x1b[2J\x9b"}
    assert "\x1b" not in text and "\x9b" not in text


def test_a_diverged_training_is_refused_and_saves_nothing(runner, tmp_path, monkeypatch):
    import seqkit.trainers

    fit = seqkit.trainers.StatelessTrainer.fit

    def diverging_fit(self, data, **kwargs):
        model, history = fit(self, data, **kwargs)
        history.loss[-1] = float("nan")
        return model, history

    monkeypatch.setattr(seqkit.trainers.StatelessTrainer, "fit", diverging_fit)
    out = tmp_path / "model.seqkit"
    result = invoke(runner, ["train", *TINY, "--out", str(out), "--json"])
    message = (f"Training diverged: the loss is nan after epoch 1; '{out}' was not changed. Train again with a "
               "lower --learning-rate (this run: 0.001).")
    assert result.exit_code == 1 and result.stderr.splitlines()[-1] == "Error: " + message
    assert json.loads(result.stdout) == {"error": {"message": message, "exit_code": 1}}
    assert not out.exists()


def test_experiments_json_gives_accuracies_as_fractions_as_train_does(runner):
    result = invoke(runner, ["experiments", "--list", "--json"])
    by_name = {experiment["name"]: experiment for experiment in json.loads(result.stdout)["experiments"]}
    assert by_name["one-char"]["tutorial_accuracy"] == pytest.approx(0.84)
    assert by_name["one-char"]["notebook_accuracy"] == pytest.approx(0.80)
    assert by_name["window-timesteps"]["tutorial_accuracy"] == 1.0


# Control characters --------------------------------------------------------------------
EVIL = "AB\x1b]0;pwned\x07CD\x1b[2J\x9b1m"


@pytest.fixture(scope="module")
def evil(tmp_path_factory):
    """A text whose tokens are terminal escapes, and a window-2 model trained on it."""
    folder = tmp_path_factory.mktemp("evil")
    text, bundle = folder / "evil.txt", folder / "evil.seqkit"
    text.write_text(EVIL * 3, encoding="utf-8")
    result = CliRunner().invoke(main, ["train", "--text", str(text), "--window", "2", *TINY, "--out", str(bundle), "-q"])
    assert result.exit_code == 0, result.output
    return {"text": str(text), "bundle": str(bundle)}


@pytest.mark.parametrize(
    "args",
    [
        ["vocab", "--text", "{text}"],
        ["train", "--text", "{text}", "--window", "2", *TINY],
        ["inspect", "{bundle}"],
        ["predict", "{bundle}", "\x1b]", "-k", "20"],
        ["generate", "{bundle}", "--prime", "\x1b]", "--steps", "30", "--temperature", "5", "--seed", "1"],
        ["evaluate", "{bundle}", "--text", "{text}", "--show", "99"],
    ],
    ids=lambda args: args[0],
)
def test_tokens_are_shown_with_control_characters_escaped(runner, evil, args):
    result = invoke(runner, [arg.format(**evil) for arg in args])
    assert result.exit_code == 0, result.output
    assert not any(char in result.output for char in "\x1b\x07\x9b")
    if args[0] in ("vocab", "predict", "evaluate", "inspect"):
        assert "\\x1b" in result.stdout


def test_terminal_safe_escapes_controls_and_keeps_text():
    from seqkit.cli.render import terminal_safe

    assert terminal_safe("a\x1b[2Jb\x07\x7f\x9b\u202e") == "a\\x1b[2Jb\\x07\\x7f\\x9b\\u202e"
    assert terminal_safe("naïve ♪ text") == "naïve ♪ text"
    assert terminal_safe("two\nlines\tand\r", keep_layout=True) == "two\nlines\tand\\r"


# evaluate ------------------------------------------------------------------------------
def test_evaluate_counts_every_mistake_beyond_the_json_cap(runner, files, tmp_path):
    backwards = tmp_path / "backwards.txt"
    backwards.write_text(ALPHABET[::-1] * 500, encoding="utf-8")  # 13,000 tokens, almost all wrong
    result = invoke(runner, ["evaluate", str(files["bundle"]), "--text", str(backwards), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    total_wrong = document["total"] - document["correct"]
    assert total_wrong > 10_000
    assert (document["mistakes_total"], document["mistakes_shown"]) == (total_wrong, 10_000)
    assert len(document["mistakes"]) == 10_000
    table = invoke(runner, ["evaluate", str(files["bundle"]), "--text", str(backwards), "--show", "5"])
    assert f"... and {total_wrong - 5} more (--show N lists more)." in table.stdout


# Several documents ---------------------------------------------------------------------
@pytest.fixture
def documents(tmp_path):
    folder = tmp_path / "songs"
    folder.mkdir()
    (folder / "b.txt").write_text("C D E\n", encoding="utf-8")
    (folder / "a.txt").write_text("G A B C\nD E F\n", encoding="utf-8")
    (folder / ".hidden").write_text("X Y Z", encoding="utf-8")
    (folder / "sub").mkdir()
    return folder


def test_several_text_files_are_several_documents(runner, documents):
    result = invoke(runner, ["vocab", "--text", str(documents / "a.txt"), "--text", str(documents / "b.txt"),
                             "--level", "word", "--window", "2", "--json"])
    document = json.loads(result.stdout)
    assert (document["corpus"], document["documents"], document["tokens"]) == ("a.txt and 1 more", 2, 10)
    assert document["windows"] == 5 + 1  # windows never cross from one document to the next


def test_a_folder_is_one_document_per_file_sorted_hidden_files_left_out(runner, documents):
    document = json.loads(invoke(runner, ["vocab", "--text", str(documents), "--level", "word", "--json"]).stdout)
    assert (document["corpus"], document["documents"]) == ("songs", 2)
    assert document["vocabulary"] == ["G", "A", "B", "C", "D", "E", "F"]


def test_lines_makes_each_line_a_document(runner, documents):
    args = ["vocab", "--text", str(documents), "--lines", "--level", "word", "--window", "2", "--json"]
    document = json.loads(invoke(runner, args).stdout)
    assert (document["documents"], document["windows"]) == (3, 2 + 1 + 1)


def test_reset_boundary_on_one_document_trains_with_a_note(runner):
    args = ["train", "--trainer", "stateful", "--reset", "boundary", *TINY]
    result = invoke(runner, args)
    assert result.exit_code == 0, result.output
    assert ("The corpus is one document, so --reset boundary resets only where each epoch starts, as --reset "
            "epoch does.") in " ".join(result.stderr.split())


def test_reset_boundary_trains_on_several_documents(runner, documents):
    args = ["train", "--text", str(documents), "--lines", "--level", "word", "--trainer", "stateful",
            "--reset", "boundary", *TINY, "--json"]
    result = invoke(runner, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["hyperparameters"]["reset"] == "boundary"


# Progress and tables -------------------------------------------------------------------
def test_plain_progress_lines_every_interval_and_at_the_end():
    from seqkit.cli.render import PlainLines

    now = [0.0]
    err = StringIO()
    lines = PlainLines(Console(file=err, width=80), interval=5.0, clock=lambda: now[0])
    lines.start("stateless on alphabet", 500)
    for epoch in range(1, 401):
        now[0] = 1.0 + epoch * 0.05  # 20 epochs a second after a 1 s start
        lines.update(epoch, 0.1234, 0.84)
    lines.finish(400)
    shown = err.getvalue().splitlines()
    assert shown[0] == "stateless on alphabet: epoch 1/500 loss 0.1234 acc 84.00% elapsed 0:00:01 ETA ~0:08:43"
    assert shown[1] == "stateless on alphabet: epoch 101/500 loss 0.1234 acc 84.00% elapsed 0:00:06 ETA 0:00:19"
    assert shown[-1] == "stateless on alphabet: epoch 400/500 loss 0.1234 acc 84.00% elapsed 0:00:21 ETA 0:00:05"
    assert len(shown) == 5


def test_the_live_bar_keeps_the_epoch_count_and_eta_at_80_columns():
    from seqkit.cli.render import LiveBar

    bar = LiveBar(Console(file=StringIO(), width=80, force_terminal=True))
    bar.start("stateful on a-rather-long-corpus-name.txt", 500)
    bar.update(200, 0.1234, 0.84)
    out = Console(file=StringIO(), width=80, color_system=None)
    out.print(bar.display.make_tasks_table(bar.display.tasks))
    line = out.file.getvalue().rstrip("\n")
    assert len(line) <= 80 and "\n" not in line
    assert "epoch 200/500 loss 0.1234 acc 84.00% 0:00:00 ETA -:--:--" in line
    assert "━" not in line  # the bar went first


@pytest.mark.parametrize("width", [60, 80])
def test_narrow_tables_keep_numbers_whole(width):
    from seqkit.cli.experiments import listing_table

    out = Console(file=StringIO(), width=width, color_system=None)
    out.print(listing_table(["one-char", "window-timesteps", "variable-length"]))
    text = out.file.getvalue()
    assert "100.00%" in text and "84.00%" in text and "98.90%" in text and "…" not in text


# Interruptions ---------------------------------------------------------------------------
def test_sigterm_stops_training_like_ctrl_c_with_exit_143(runner, tmp_path, monkeypatch):
    import signal

    import seqkit.trainers

    def terminated_fit(self, data, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(100):  # the handler runs between two bytecodes
            pass
        raise AssertionError("SIGTERM did not stop the training")

    monkeypatch.setattr(seqkit.trainers.StatelessTrainer, "fit", terminated_fit)
    out = tmp_path / "model.seqkit"
    result = invoke(runner, ["train", "--epochs", "5", "--out", str(out), "--checkpoint", str(tmp_path / "run")])
    assert_clean_failure(
        result, 143, f"Interrupted: training stopped at epoch 0 of 5; '{out}' was not changed; no checkpoint was "
        f"written yet: start again with --checkpoint {tmp_path / 'run'} --resume.")
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


@pytest.mark.slow  # 2-4 s on 2 cores; CI runs it
def test_an_interruption_reports_the_epoch_the_checkpoint_holds(runner, tmp_path):
    from seqkit.cli.train import interrupted_message

    run = tmp_path / "run"
    result = invoke(runner, ["train", *TINY, "--epochs", "3", "--checkpoint", str(run), "--checkpoint-every", "2", "-q"])
    assert result.exit_code == 0, result.output
    assert interrupted_message(4, 9, None, run) == (
        f"Interrupted: training stopped at epoch 4 of 9; nothing was saved; the last checkpoint holds epoch 3: "
        f"continue with --checkpoint {run} --resume.")
    resumed = invoke(runner, ["train", *TINY, "--epochs", "4", "--checkpoint", str(run), "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert f"Resuming from the checkpoint in {run} at epoch 3." in " ".join(resumed.stderr.split())


@pytest.mark.slow  # 2-4 s on 2 cores; CI runs it
def test_stream_training_checkpoints_inside_epochs_and_resumes(runner, tmp_path):
    run = tmp_path / "run"
    stream = ["--trainer", "stream", "--window", "4", "--batch-size", "2", "--units", "8"]
    first = invoke(runner, ["train", *stream, "--epochs", "2", "--checkpoint", str(run), "--checkpoint-steps", "2", "-q"])
    assert first.exit_code == 0, first.output
    resumed = invoke(runner, ["train", *stream, "--epochs", "3", "--checkpoint", str(run), "--checkpoint-steps", "2",
                              "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert f"Resuming from the checkpoint in {run} at epoch 2." in " ".join(resumed.stderr.split())
    from seqkit.checkpoint import latest_epoch

    assert latest_epoch(run) == 3


@pytest.mark.slow  # a resumed run inside an epoch, ~5 s; resuming itself stays in the default run
def test_a_resume_inside_an_epoch_names_the_step(runner, tmp_path):
    import keras

    import seqkit
    from seqkit.cli.train import interrupted_message
    from seqkit.trainers import StreamTrainer

    class StopAtStep(keras.callbacks.Callback):
        def on_steps_end(self, position):
            if (position.epoch, position.step) == (0, 2):
                raise KeyboardInterrupt  # before the checkpoint saves step 2: it holds step 1

    run = tmp_path / "run"
    trainer = StreamTrainer(window=4, batch_size=2, units=8, epochs=3, checkpoint_dir=run, checkpoint_steps=1)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(seqkit.alphabet(), callbacks=[StopAtStep()])
    assert interrupted_message(0, 3, None, run) == (
        f"Interrupted: training stopped at epoch 0 of 3; nothing was saved; the last checkpoint holds epoch 0, "
        f"step 1: continue with --checkpoint {run} --resume.")
    stream = ["--trainer", "stream", "--window", "4", "--batch-size", "2", "--units", "8", "--epochs", "3"]
    resumed = invoke(runner, ["train", *stream, "--checkpoint", str(run), "--checkpoint-steps", "1", "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert f"Resuming from the checkpoint in {run} at epoch 0, step 1." in " ".join(resumed.stderr.split())


# Multi-worker start-up ------------------------------------------------------------------
@pytest.mark.slow  # 2-4 s on 2 cores; CI runs it
def test_multi_worker_names_the_peers_and_fails_after_the_startup_timeout(runner):
    import socket

    ports = []
    for _ in range(2):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            ports.append(probe.getsockname()[1])
    peer = f"127.0.0.1:{ports[1]}"
    config = {"cluster": {"worker": [f"127.0.0.1:{ports[0]}", peer]}, "task": {"type": "worker", "index": 0}}
    result = invoke(runner, ["train", "--strategy", "multi-worker", "--startup-timeout", "1.5"],
                    env={"TF_CONFIG": json.dumps(config)})
    assert f"Waiting for the other workers of TF_CONFIG: {peer} (giving up after 1.5 s; see --startup-timeout)." in (
        " ".join(result.stderr.split()))
    assert_clean_failure(
        result, 1, f"Error: Worker {peer} of TF_CONFIG did not answer within 1.5 s. Start every worker listed in "
        "TF_CONFIG (each with its own task index), or give a longer --startup-timeout.")


def test_waiting_for_peers_returns_once_all_answer():
    from seqkit.cli.cluster import Cluster, PeersUnreachable, wait_for_peers

    now, answers = [0.0], {"b:1": [False, True], "c:2": [False, False, True]}

    def probe(peer):
        return answers[peer].pop(0)

    def sleep(seconds):
        now[0] += seconds

    wait_for_peers(Cluster("a:0", ("b:1", "c:2")), 10, probe=probe, clock=lambda: now[0], sleep=sleep)
    assert now[0] == 2.0
    with pytest.raises(PeersUnreachable, match=r"^Worker b:1 of TF_CONFIG did not answer within 3 s\."):
        wait_for_peers(Cluster("a:0", ("b:1",)), 3, probe=lambda peer: False, clock=lambda: now[0], sleep=sleep)


def test_a_byte_order_mark_on_standard_input_is_not_a_token(runner):
    result = invoke(runner, ["vocab", "--text", "-", "--json"], input="\ufeffAB".encode("utf-8"))
    assert json.loads(result.stdout)["vocabulary"] == ["A", "B"]


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (PermissionError(13, "Permission denied", "/data/model.seqkit"), "Cannot use '/data/model.seqkit': Permission denied."),
        (OSError(28, "No space left on device"), "No space left on device."),
    ],
)
def test_file_system_errors_become_one_line_errors(error, message):
    from seqkit.cli.errors import as_click_exception

    assert as_click_exception(error).format_message() == message


# Held-out data and sampling from the command line (issue 12) ----------------------------
def test_train_scores_held_out_text_and_stops_early(runner, tmp_path):
    result = invoke(runner, ["train", "--window", "3", "--units", "8", "--epochs", "30", "--validation-split", "0.2",
                             "--early-stopping", "1", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["val_loss"] is not None and report["best_epoch"] >= 1
    assert report["epochs"] < 30  # the held-out letters V..Z are never learned: it stops
    assert report["val_bits_per_token"] == pytest.approx(report["val_loss"] / math.log(2))


def test_early_stopping_needs_held_out_data(runner):
    result = invoke(runner, ["train", "--early-stopping", "2"])
    assert_clean_failure(result, 2, "Error: --early-stopping watches the held-out loss: give --validation-split F "
                                    "or --validation-text FILE too.")


def test_train_prints_samples_every_n_epochs(runner):
    result = invoke(runner, ["train", "--trainer", "stateful", "--units", "8", "--epochs", "4", "--sample-every", "2"])
    assert result.exit_code == 0, result.output
    samples = [line for line in result.stderr.splitlines() if " sample: " in line]
    assert [line.split(" sample: ")[0] for line in samples] == ["epoch 2", "epoch 4"]


def test_generate_samples_with_top_k_and_top_p(runner, files):
    args = ["generate", str(files["bundle"]), "--prime", "AB", "--steps", "10", "--top-k", "3", "--top-p", "0.9",
            "--temperature", "1.5", "--seed", "7", "--json"]
    first, second = invoke(runner, args), invoke(runner, args)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["generated"] == json.loads(second.stdout)["generated"]
    assert json.loads(first.stdout)["top_k"] == 3
