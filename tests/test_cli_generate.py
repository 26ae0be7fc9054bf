"""``seqkit generate`` as people use it: many samples, stops, beams, files, streaming, progress."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from rich.console import Console

import seqkit
from seqkit.cli.main import main
from seqkit.cli.render import Consoles
from seqkit.trainers import StatefulTrainer


def invoke(runner: CliRunner, args: list[str], **kwargs) -> Result:
    return runner.invoke(main, args, catch_exceptions=False, **kwargs)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stateful alphabet model that counts: B..Z after A."""
    path = tmp_path_factory.mktemp("generate") / "alphabet.seqkit"
    StatefulTrainer(units=16, epochs=150, seed=7).fit(seqkit.alphabet())[0].save(path)
    return path


@pytest.fixture(scope="module")
def model(bundle: Path) -> seqkit.SequenceModel:
    return seqkit.load(bundle)


def test_one_sample_is_printed_as_it_is_generated(runner, bundle, model):
    result = invoke(runner, ["generate", str(bundle), "--prime", "A", "--steps", "25"])
    assert result.exit_code == 0, result.output
    model.reset()
    assert result.stdout == "A" + "".join(model.generate("A", 25)) + "\n"


def test_num_samples_are_seeded_seed_plus_i_as_the_library_makes_them(runner, bundle, model):
    args = ["generate", str(bundle), "--prime", "A", "--steps", "12", "-n", "3", "--temperature", "1.5", "--seed", "9"]
    document = json.loads(invoke(runner, [*args, "--json"]).stdout)
    assert [record["seed"] for record in document["samples"]] == [9, 10, 11]
    model.reset()
    expected = model.generate("A", 12, num_samples=3, temperature=1.5, seed=9)
    assert [record["tokens"] for record in document["samples"]] == expected
    assert [record["text"] for record in document["samples"]] == ["A" + "".join(tokens) for tokens in expected]


def test_many_samples_are_shown_each_under_a_header(runner, bundle, model):
    result = invoke(runner, ["generate", str(bundle), "--prime", "A", "--prime", "K", "--steps", "4", "-n", "2",
                             "--temperature", "0.01", "--seed", "1"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split(" · ")[:3] for line in lines[::2]] == [
        ["prime 1", "sample 1/2", "seed 1"], ["prime 1", "sample 2/2", "seed 2"],
        ["prime 2", "sample 1/2", "seed 3"], ["prime 2", "sample 2/2", "seed 4"]]
    model.reset()
    a, k = "A" + "".join(model.generate("A", 4)), "K" + "".join(model.generate("K", 4))
    assert lines[1::2] == [a, a, k, k]


@pytest.mark.parametrize(("keep", "expected"), [([], "ABCD"), (["--keep-stop"], "ABCDE")])
def test_a_stop_sequence_ends_the_sample_dropped_or_kept(runner, bundle, keep, expected):
    result = invoke(runner, ["generate", str(bundle), "--prime", "A", "--steps", "20", "--stop", "E", *keep, "--json"])
    record = json.loads(result.stdout)["samples"][0]
    assert (record["text"], record["stop_reason"], record["stop"]) == (expected, "stop", ["E"])


def test_stop_reads_backslash_escapes(runner, tmp_path):
    path = tmp_path / "lines.seqkit"
    StatefulTrainer(units=16, epochs=60, seed=7).fit(seqkit.Corpus.from_text("AB\nAB\nAB\n", level="char"))[0].save(path)
    result = invoke(runner, ["generate", str(path), "--prime", "A", "--steps", "20", "--stop", "\\n", "--json"])
    record = json.loads(result.stdout)["samples"][0]
    assert record["stop"] == ["\n"] and "\n" not in record["text"]


def test_beam_search_gives_the_w_best_continuations(runner, bundle):
    document = json.loads(invoke(runner, ["generate", str(bundle), "--prime", "A", "--steps", "5", "--beam", "3", "--json"]).stdout)
    records = document["samples"]
    assert len(records) == 3 and records[0]["text"] == "ABCDEF"
    assert [record["beam"] for record in records] == [3, 3, 3]
    scores = [record["log_probability"] for record in records]
    assert scores == sorted(scores, reverse=True)


def test_out_writes_json_lines_one_object_per_sample(runner, bundle, tmp_path):
    out = tmp_path / "samples.jsonl"
    result = invoke(runner, ["generate", str(bundle), "--prime", "A", "--steps", "6", "-n", "4", "--top-k", "2",
                             "--seed", "3", "--stop", "Z", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [record["sample"] for record in records] == [1, 2, 3, 4]
    assert set(records[0]) == {
        "sample", "prime_index", "prime", "tokens", "text", "continuation", "stop_reason", "log_probability", "seed",
        "temperature", "top_k", "top_p", "repetition_penalty", "beam", "stop", "keep_stop"}
    assert {(record["top_k"], record["stop_reason"]) for record in records} == {(2, "length")}


def test_out_writes_the_texts_a_blank_line_apart(runner, bundle, tmp_path):
    out = tmp_path / "samples.txt"
    invoke(runner, ["generate", str(bundle), "--prime", "A", "--steps", "3", "-n", "2", "--out", str(out), "-q"])
    assert out.read_text(encoding="utf-8") == "ABCD\n\nABCD\n"


def test_an_unseeded_run_reports_the_seed_that_repeats_it(runner, bundle):
    first = invoke(runner, ["generate", str(bundle), "--prime", "A", "--steps", "8", "--temperature", "2", "--json"])
    seed = json.loads(first.stdout)["seed"]
    again = invoke(runner, ["generate", str(bundle), "--prime", "A", "--steps", "8", "--temperature", "2",
                            "--seed", str(seed), "--json"])
    assert json.loads(again.stdout)["generated"] == json.loads(first.stdout)["generated"]
    noted = invoke(runner, ["generate", str(bundle), "--prime", "A", "--steps", "3", "--temperature", "2"])
    assert noted.stderr.startswith("Seed ") and ": give --seed " in noted.stderr


def test_many_samples_show_a_progress_bar_on_a_terminal(runner, bundle):
    out, err = StringIO(), StringIO()
    consoles = Consoles(out=Console(file=out, width=100), err=Console(file=err, width=100, force_terminal=True))
    result = invoke(runner, ["generate", str(bundle), "--prime", "A", "--steps", "30", "-n", "4"], obj=consoles)
    assert result.exit_code == 0
    assert "generating 4 samples" in err.getvalue() and "30/30" in err.getvalue()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--prime", ""], "Error: --prime is empty; give at least one token to start from (e.g. --prime A)."),
        (["--prime", "A", "--stop", ""], "Error: --stop is empty; give the text that ends a sample (e.g. --stop '\\n')."),
        (["--prime", "A", "--beam", "2", "--temperature", "1"],
         "Error: --beam finds the most likely continuations and draws nothing; drop --temperature, --top-k and --top-p, "
         "or drop --beam."),
        (["--prime", "A", "--beam", "2", "-n", "2"], "Error: --beam gives the beam's W continuations; drop --num-samples."),
        (["--prime", "A", "--steps", "100000000000"],
         "Error: Invalid value for '--steps' / '--max-steps': 100000000000 is not in the range 1<=x<=1000000."),
        (["--prime", "A", "--prime", "B", "-n", "4000"],
         "Error: 2 primes x 4000 samples is 8000 samples; one run makes at most 4096. Generate in several runs."),
        (["--prime", "A", "--repetition-penalty", "0"],
         "Error: Invalid value for '--repetition-penalty': 0.0 is not in the range 0<x<=100.0."),
    ],
)
def test_bad_generation_options_are_usage_errors(runner, bundle, args, message):
    result = invoke(runner, ["generate", str(bundle), *args])
    assert result.exit_code == 2, result.output
    assert result.stderr.rstrip("\n").splitlines()[-1] == message
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "-"], "Error: --out - would write a file named '-'; for the samples on standard output as JSON, use --json."),
        (["-n", "4000", "--steps", "10000"],
         "Error: 4000 samples x 10000 steps is 40,000,000 tokens; one run makes at most 10,000,000. Give fewer "
         "--num-samples or --steps, or generate in several runs."),
        (["--repetition-penalty", "1e308"],
         "Error: Invalid value for '--repetition-penalty': 1e+308 is not in the range 0<x<=100.0."),
    ],
)
def test_more_bad_generation_options_are_usage_errors(runner, bundle, args, message):
    result = invoke(runner, ["generate", str(bundle), "--prime", "A", *args])
    assert result.exit_code == 2, result.output
    assert result.stderr.rstrip("\n").splitlines()[-1] == message


def test_a_stop_of_no_token_at_the_word_level_is_a_usage_error(runner, tmp_path):
    path = tmp_path / "words.seqkit"
    result = invoke(runner, ["train", "--tokens", "do re mi do re mi fa", "--units", "4", "--epochs", "1",
                             "--out", str(path), "-q"])
    assert result.exit_code == 0, result.output
    stopped = invoke(runner, ["generate", str(path), "--prime", "do", "--stop", " "])
    assert stopped.exit_code == 2
    assert stopped.stderr.rstrip("\n").splitlines()[-1] == (
        "Error: --stop ' ' holds no token at the model's word level; give a stop made of the model's tokens.")


def test_a_refused_prime_leaves_standard_output_empty(runner, bundle):
    result = invoke(runner, ["generate", str(bundle), "--prime", "a"])
    assert result.exit_code == 1 and result.stdout == ""


def test_many_samples_keep_their_lines_whole(runner, bundle):
    result = invoke(runner, ["generate", str(bundle), "--prime", "A", "-n", "2", "--steps", "150",
                             "--temperature", "1.3", "--seed", "2"])
    assert [len(line) for line in result.stdout.splitlines()[1::2]] == [151, 151]


def test_out_refuses_a_pipe_before_any_work(runner, bundle, tmp_path):
    import os

    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    result = invoke(runner, ["generate", str(bundle), "--prime", "A", "--out", str(pipe)])
    assert result.exit_code == 2 and "is a FIFO (named pipe), not a regular file" in result.stderr


def test_a_seed_of_a_later_sample_can_be_given_again(runner, bundle):
    both = json.loads(invoke(runner, ["generate", str(bundle), "--prime", "A", "-n", "2", "--temperature", "1.5",
                                      "--seed", str(2**32 - 1), "--json"]).stdout)["samples"]
    again = json.loads(invoke(runner, ["generate", str(bundle), "--prime", "A", "--temperature", "1.5",
                                       "--seed", str(2**32), "--json"]).stdout)
    assert again["generated"] == both[1]["tokens"]


def test_out_is_checked_before_any_work(runner, bundle, tmp_path):
    result = invoke(runner, ["generate", str(bundle), "--prime", "A", "--out", str(bundle)])
    assert result.exit_code == 2
    assert "is also the BUNDLE input" in result.stderr


def test_a_word_models_sample_is_streamed_with_spaces_between_its_words(runner, tmp_path):
    path = tmp_path / "words.seqkit"
    trained = invoke(runner, ["train", "--tokens", "do re mi fa do re mi fa", "--units", "8", "--epochs", "20",
                              "--out", str(path), "-q"])
    assert trained.exit_code == 0, trained.output
    shown = invoke(runner, ["generate", str(path), "--prime", "do re", "--steps", "6"]).stdout
    document = json.loads(invoke(runner, ["generate", str(path), "--prime", "do re", "--steps", "6", "--json"]).stdout)
    assert shown == document["text"] + "\n" == "do re " + " ".join(document["generated"]) + "\n"
