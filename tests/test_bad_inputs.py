"""The reference table of bad inputs: what a user can get wrong, and the exact error each gets.

One table, ``ROWS``, across the Python API and the ``seqkit`` CLI. An API row names the
call and the :class:`~seqkit.errors.SeqkitError` subclass it raises; a CLI row gives
the arguments, the exit status (1: the data, a file or a model is wrong; 2: the
command line is) and the one line printed on standard error, with no traceback.
``docs/reliability.md`` lists the same rows: it is generated from this table by
``docs/make_bad_inputs_table.py`` and a test below keeps the two equal.

Paths in messages are written ``{dir}/name`` (a scratch folder), the model bundle
``{bundle}`` and a finished checkpoint folder ``{run}``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import seqkit
from seqkit.datasets import Corpus, load_text
from seqkit.errors import SeqkitError
from seqkit.sequence_model import load_bundle, save_bundle
from seqkit.trainers import RandomWindows, StatefulTrainer, StatelessTrainer, StreamTrainer
from seqkit.vocab import Vocabulary

ROOT = Path(__file__).resolve().parents[1]
RESAVE = "Save the model again with save_bundle."
FINITE_FIX = (
    "Retrain with a smaller learning rate or with clip_norm (--clip-norm), or save the model again from finite weights."
)
TOKEN_FIX = "Use only tokens of the vocabulary, or build it with unknown_token='<unk>' to map unknown tokens to one id."


@dataclass(frozen=True)
class Row:
    """One bad input.

    Attributes:
        id: a short name.
        shown: how the input is given, as a user would type it.
        trigger: CLI arguments (a list), or a function of the paths that makes the API call.
        error: the exception class name (API) or ``exit N`` (CLI).
        message: the exact message; ``{dir}``, ``{bundle}`` and ``{run}`` stand for paths.
    """

    id: str
    shown: str
    trigger: list[str] | Callable[[dict[str, str]], Any]
    error: str
    message: str

    @property
    def surface(self) -> str:
        return "CLI" if isinstance(self.trigger, list) else "API"


def cli(id: str, args: str, code: int, message: str) -> Row:
    return Row(id, "seqkit " + args, args.split(), f"exit {code}", "Error: " + message)


ROWS: list[Row] = [
    # Vocabularies ---------------------------------------------------------------------------
    Row("vocabulary-empty", "Vocabulary([])", lambda p: Vocabulary([]), "VocabularyError",
        "Cannot build a vocabulary from an empty corpus: no tokens were given. Pass at least one token."),
    Row("vocabulary-duplicates", "Vocabulary(['a', 'b', 'a'])", lambda p: Vocabulary(["a", "b", "a"]),
        "VocabularyError",
        "Duplicate tokens in vocabulary: 'a'. Each token must appear once; use Vocabulary.from_corpus(tokens) "
        "to collect the distinct tokens of a corpus."),
    Row("vocabulary-a-string", "Vocabulary('abc')", lambda p: Vocabulary("abc"), "VocabularyError",
        "Vocabulary(tokens) expects a list of tokens, got the string 'abc'. Use Vocabulary.from_chars(text) for "
        "characters or Vocabulary.from_words(text) for words."),
    Row("unknown-token", "Vocabulary(['a', 'b']).encode('abc')", lambda p: Vocabulary(["a", "b"]).encode("abc"),
        "VocabularyError", f"Token 'c' is not in the vocabulary of 2 tokens ('a', 'b'). {TOKEN_FIX}"),
    Row("id-out-of-range", "Vocabulary(['a', 'b']).decode([2])", lambda p: Vocabulary(["a", "b"]).decode([2]),
        "VocabularyError", "Token id 2 is out of range: valid ids are 0 to 1 for this vocabulary of 2 tokens."),
    Row("vocabulary-file-missing", "Vocabulary.load('{dir}/missing.json')",
        lambda p: Vocabulary.load(f"{p['dir']}/missing.json"), "ModelFileError",
        "Vocabulary file '{dir}/missing.json' does not exist. Check the path."),
    Row("vocabulary-file-not-json", "Vocabulary.load('{dir}/tokens.txt')  # one token per line",
        lambda p: Vocabulary.load(f"{p['dir']}/tokens.txt"), "ModelFileError",
        "Vocabulary file '{dir}/tokens.txt' is not valid JSON (Expecting value: line 1 column 1 (char 0)); "
        "it is not a seqkit vocabulary."),
    Row("vocabulary-newer-version", "Vocabulary.from_json('{\"format\": \"seqkit.vocabulary\", \"version\": 2, ...}')",
        lambda p: Vocabulary.from_json('{"format": "seqkit.vocabulary", "version": 2, "tokens": ["a"]}'),
        "ModelFileError",
        "vocabulary has vocabulary format version 2; this seqkit reads version 1. Upgrade seqkit or re-save the "
        "vocabulary with this version."),
    Row("vocabulary-huge-number", "Vocabulary.from_json('9999…' * 5000 digits)",
        lambda p: Vocabulary.from_json("9" * 5000), "ModelFileError",
        "vocabulary is not valid JSON (it holds a number of more than 4300 digits); it is not a seqkit vocabulary."),
    # Corpora and windows ----------------------------------------------------------------
    Row("text-file-missing", "load_text('{dir}/missing.txt')", lambda p: load_text(f"{p['dir']}/missing.txt"),
        "DataError", "Text file '{dir}/missing.txt' does not exist. Check the path."),
    Row("text-file-not-utf8", "load_text('{dir}/latin1.txt')", lambda p: load_text(f"{p['dir']}/latin1.txt"),
        "DataError",
        "Text file '{dir}/latin1.txt' is not valid UTF-8 (byte 3: 0xe9). Convert it to UTF-8, e.g. with iconv."),
    Row("corpus-empty", "Corpus.from_text('')", lambda p: Corpus.from_text(""), "DataError",
        "The corpus 'text' is empty: it holds no tokens. Give a text, a file or a token list with at least two "
        "tokens."),
    Row("window-too-long", "StatelessTrainer(window=26).fit(alphabet())",
        lambda p: StatelessTrainer(window=26).fit(seqkit.alphabet()), "DataError",
        "Window length 26 must be shorter than the sequence it slides over (26 tokens). Use a window length of "
        "at most 25, or a longer corpus."),
    # Hyperparameters --------------------------------------------------------------------
    Row("units-zero", "StatefulTrainer(units=0).fit(alphabet())",
        lambda p: StatefulTrainer(units=0).fit(seqkit.alphabet()), "ConfigurationError",
        "The 'units' parameter of StatefulTrainer must be an int >= 1. Got 0 instead."),
    Row("dropout-one", "StatelessTrainer(dropout=1.0).fit(alphabet())",
        lambda p: StatelessTrainer(dropout=1.0).fit(seqkit.alphabet()), "ConfigurationError",
        "The 'dropout' parameter of StatelessTrainer must be a float in [0, 1). Got 1.0 instead."),
    Row("encoding-unknown", "StatelessTrainer(encoding='binary').fit(alphabet())",
        lambda p: StatelessTrainer(encoding="binary").fit(seqkit.alphabet()), "ConfigurationError",
        "The 'encoding' parameter of StatelessTrainer must be 'scaled', 'onehot' or 'embedding'. Got 'binary' "
        "instead."),
    Row("stateful-random-windows", "StatefulTrainer(window=RandomWindows()).fit(alphabet())",
        lambda p: StatefulTrainer(window=RandomWindows()).fit(seqkit.alphabet()), "ConfigurationError",
        "StatefulTrainer reads the corpus in order and cannot use RandomWindows; give an int window length, or "
        "use StatelessTrainer for random windows."),
    Row("stateful-batch-too-large", "StatefulTrainer(batch_size=30).fit(alphabet())",
        lambda p: StatefulTrainer(batch_size=30).fit(seqkit.alphabet()), "ConfigurationError",
        "The 'batch_size' parameter of StatefulTrainer must be at most the number of training windows (25) so "
        "that every stream holds one. Got 30 instead."),
    Row("checkpoint-every-zero", "StatelessTrainer(checkpoint_every=0).fit(alphabet())",
        lambda p: StatelessTrainer(checkpoint_every=0).fit(seqkit.alphabet()), "ConfigurationError",
        "The 'checkpoint_every' parameter of StatelessTrainer must be an int >= 1. Got 0 instead."),
    # Bundles ------------------------------------------------------------------------------
    Row("bundle-missing", "load_bundle('{dir}/missing.seqkit')", lambda p: load_bundle(f"{p['dir']}/missing.seqkit"),
        "ModelFileError",
        "Bundle '{dir}/missing.seqkit' does not exist. Check the path, or save a model there with "
        "save_bundle(model, path)."),
    Row("bundle-not-a-zip", "load_bundle('{dir}/tokens.txt')", lambda p: load_bundle(f"{p['dir']}/tokens.txt"),
        "ModelFileError",
        "Bundle '{dir}/tokens.txt' is not a seqkit bundle: it is not a zip archive. Give a file written by "
        "save_bundle."),
    Row("bundle-truncated", "load_bundle('{dir}/half.seqkit')  # the first half of a bundle",
        lambda p: load_bundle(f"{p['dir']}/half.seqkit"), "ModelFileError",
        "Bundle '{dir}/half.seqkit' is truncated or corrupted: its zip directory is missing or damaged (File is "
        "not a zip file). Save the model again with save_bundle."),
    Row("bundle-save-to-a-folder", "save_bundle(model, '{dir}')", lambda p: save_bundle(p["model"], p["dir"]),
        "ModelFileError",
        "Cannot save the bundle to '{dir}': it is a directory. Give a file path such as '{dir}/model.seqkit'."),
    # Checkpoints -----------------------------------------------------------------------
    Row("checkpoint-not-resumed", "StatelessTrainer(..., checkpoint_dir='{run}').fit(alphabet())",
        lambda p: StatelessTrainer(**p["tiny"], checkpoint_dir=p["run"]).fit(seqkit.alphabet()),
        "ConfigurationError",
        "Checkpoint folder '{run}' already holds a checkpoint (epoch 2). Resume it with fit(..., resume=True) or "
        "seqkit train --resume, or give an empty folder."),
    Row("checkpoint-other-configuration", "StatelessTrainer(..., units=5, checkpoint_dir='{run}').fit(alphabet(), resume=True)",
        lambda p: StatelessTrainer(**{**p["tiny"], "units": 5}, checkpoint_dir=p["run"]).fit(
            seqkit.alphabet(), resume=True),
        "ModelFileError",
        "Checkpoint folder '{run}' was written by another training run: 'units' is 4 there and 5 here. Resume "
        "with the settings and data it was written with, or give another folder."),
    Row("checkpoint-other-corpus", "StatelessTrainer(..., checkpoint_dir='{run}').fit('ZYXWVUTSRQPONMLKJIHGFEDCBA', resume=True)",
        lambda p: StatelessTrainer(**p["tiny"], checkpoint_dir=p["run"]).fit(
            "ZYXWVUTSRQPONMLKJIHGFEDCBA", resume=True),
        "ModelFileError",
        "Checkpoint folder '{run}' was written by another training run: the corpus differs; the vocabulary "
        "differs. Resume with the settings and data it was written with, or give another folder."),
    Row("checkpoint-fewer-epochs", "StatelessTrainer(..., epochs=1, checkpoint_dir='{run}').fit(alphabet(), resume=True)",
        lambda p: StatelessTrainer(**{**p["tiny"], "epochs": 1}, checkpoint_dir=p["run"]).fit(
            seqkit.alphabet(), resume=True),
        "ConfigurationError",
        "Checkpoint folder '{run}' holds a checkpoint at epoch 2, past the 1 epochs asked. Ask for at least 2 "
        "epochs to resume it."),
    # The CLI ------------------------------------------------------------------------------
    cli("cli-text-missing", "train --text {dir}/missing.txt", 1,
        "Text file '{dir}/missing.txt' does not exist. Check the path."),
    cli("cli-text-a-folder-without-documents", "train --text {dir}/no-documents", 1,
        "Folder '{dir}/no-documents' holds no text files; put one document per file in it, or give a file."),
    cli("cli-text-empty", "train --text {dir}/empty.txt", 1,
        "Text file '{dir}/empty.txt' is empty: it holds no characters. Give a file with at least two tokens."),
    cli("cli-window-zero", "train --window 0", 2, "Invalid value for '--window': 0 is not in the range x>=1."),
    cli("cli-learning-rate-zero", "train --learning-rate 0", 2,
        "Invalid value for '--learning-rate': 0.0 is not in the range x>0."),
    cli("cli-reset-unknown", "train --trainer stateful --reset sometimes", 2,
        "Invalid value for '--reset': Unknown reset policy 'sometimes': expected 'epoch', 'boundary', 'every:K' "
        "(K >= 1) or 'never'."),
    cli("cli-reset-stateless", "train --reset every:2", 2,
        "--reset does not apply to --trainer stateless: only stateful and stream training carry a state to reset."),
    cli("cli-two-sources", "train --alphabet --tokens AB", 2, "Give one data source, not --alphabet and --tokens."),
    cli("cli-resume-without-checkpoint", "train --resume", 2,
        "--resume needs --checkpoint DIR: the folder the training state is saved in."),
    cli("cli-checkpoint-every-without-checkpoint", "train --checkpoint-every 5", 2,
        "--checkpoint-every needs --checkpoint DIR: the folder the training state is saved in."),
    cli("cli-checkpoint-a-file", "train --checkpoint {dir}/tokens.txt", 2,
        "Invalid value for '--checkpoint': Directory '{dir}/tokens.txt' is a file."),
    cli("cli-checkpoint-not-resumed", "train --window 3 --units 4 --batch-size 4 --epochs 2 --checkpoint {run}", 1,
        "Checkpoint folder '{run}' already holds a checkpoint (epoch 2). Resume it with fit(..., resume=True) or "
        "seqkit train --resume, or give an empty folder."),
    cli("cli-checkpoint-other-configuration",
        "train --window 2 --units 4 --batch-size 4 --epochs 2 --checkpoint {run} --resume", 1,
        "Checkpoint folder '{run}' was written by another training run: 'window' is 3 there and 2 here. Resume "
        "with the settings and data it was written with, or give another folder."),
    cli("cli-bundle-missing", "predict {dir}/missing.seqkit AB", 1,
        "Bundle '{dir}/missing.seqkit' does not exist. Check the path, or save a model there with "
        "save_bundle(model, path)."),
    cli("cli-bundle-not-a-bundle", "inspect {dir}/tokens.txt", 1,
        "Bundle '{dir}/tokens.txt' is not a seqkit bundle: it is not a zip archive. Give a file written by "
        "save_bundle."),
    cli("cli-predict-unknown-token", "predict {bundle} AB!", 1, f"Token '!' is not in the vocabulary of 26 tokens "
        f"('A', 'B', 'C', 'D', 'E', …). {TOKEN_FIX}"),
    cli("cli-predict-too-short", "predict {bundle} A", 1,
        "This model reads windows of 3 tokens; got 1 (A). Give at least 3 tokens."),
    cli("cli-generate-no-prime", "generate {bundle}", 2, "Missing option '--prime'."),
    cli("cli-unknown-command", "frobnicate", 2, "No such command 'frobnicate'."),
    # Hostile files and folders (issue 14: loading trusts nothing; helpers at the end of this file) --------
    Row("text-file-fifo", "load_text('{dir}/pipe')  # a FIFO with no writer", lambda p: load_text(_fifo(p)),
        "DataError", "Text file '{dir}/pipe' is not a regular file (a FIFO); expected a UTF-8 text file."),
    Row("text-file-dev-zero", "load_text('/dev/zero')", lambda p: load_text("/dev/zero"), "DataError",
        "Text file '/dev/zero' is not a regular file (a character device); expected a UTF-8 text file."),
    Row("text-file-nul-byte", "load_text('{dir}/a\\x00b.txt')", lambda p: load_text(f"{p['dir']}/a\x00b.txt"),
        "DataError",
        "Text file '{dir}/a\\x00b.txt' is not a valid path: it holds a NUL byte, which no file name can contain. "
        "Check the path."),
    Row("vocabulary-file-dev-zero", "Vocabulary.load('/dev/zero')", lambda p: Vocabulary.load("/dev/zero"),
        "ModelFileError", "Vocabulary file '/dev/zero' is not a regular file (a character device); expected a JSON file."),
    Row("vocabulary-save-to-a-folder", "Vocabulary(['a']).save('{dir}')", lambda p: Vocabulary(["a"]).save(p["dir"]),
        "ModelFileError", "Cannot save the vocabulary to '{dir}': it is a directory. Give a writable file path."),
    Row("bundle-huge-dense-layer", "load_bundle('{dir}/dense-bomb.seqkit')  # 4 KB, Dense(units=250000000)",
        lambda p: load_bundle(_crafted_bundle(p, "dense-bomb", dense_units=250_000_000)), "ModelFileError",
        "Bundle '{dir}/dense-bomb.seqkit' holds a network of 1,250,000,096 parameters by its config, more than the "
        "50,000,000 seqkit loads; refusing to build it (a corrupted or hostile file). Save the model again with "
        "save_bundle."),
    Row("bundle-huge-keras-entry", "load_bundle('{dir}/entry-bomb.seqkit')  # model.weights.h5 declares 1.9 GB",
        lambda p: load_bundle(_crafted_bundle(p, "entry-bomb", weights_declared=1_900_000_000)), "ModelFileError",
        "Bundle '{dir}/entry-bomb.seqkit' has a model.keras whose entry model.weights.h5 declares 1900000000 bytes "
        "uncompressed, more than the 416777216 allowed; refusing it (a corrupted file or a zip bomb). Save the model "
        "again with save_bundle."),
    Row("bundle-hyperparameters-not-an-object", "load_bundle('{dir}/oops.seqkit')  # spec.hyperparameters = 'oops'",
        lambda p: load_bundle(_crafted_bundle(p, "oops", record={"hyperparameters": "oops"})), "ModelFileError",
        "Bundle '{dir}/oops.seqkit' is corrupted: spec.json 'spec.hyperparameters' must be an object; got 'oops'. "
        "Save the model again with save_bundle."),
    Row("checkpoint-pointer-outside-the-folder",
        "StatelessTrainer(..., checkpoint_dir='{dir}/crafted').fit(alphabet(), resume=True)  # pointer names '{dir}/victim/*'",
        lambda p: _resume_copy_of_run(p, "crafted", _pointer_outside), "ModelFileError",
        "Checkpoint folder '{dir}/crafted': its pointer file '{dir}/crafted/checkpoint' names \"{dir}/victim/*\", not "
        "a checkpoint 'ckpt-N' of this folder; seqkit reads and deletes nothing outside the folder. Delete the folder "
        "'{dir}/crafted' and train again, or give another folder."),
    Row("checkpoint-pointer-missing",
        "StatelessTrainer(..., checkpoint_dir='{dir}/no-pointer').fit(alphabet(), resume=True)  # 'checkpoint' deleted",
        lambda p: _resume_copy_of_run(p, "no-pointer", lambda folder: (folder / "checkpoint").unlink()),
        "ModelFileError",
        "Checkpoint folder '{dir}/no-pointer' holds checkpoint files (ckpt-1, ckpt-2) but no 'checkpoint' pointer "
        "naming the latest; it is neither empty nor resumable. Delete the folder '{dir}/no-pointer' and train again, "
        "or give another folder."),
    Row("checkpoint-record-dev-zero",
        "StatelessTrainer(..., checkpoint_dir='{dir}/zero-record').fit(alphabet(), resume=True)  # record -> /dev/zero",
        lambda p: _resume_copy_of_run(p, "zero-record", _record_to_dev_zero), "ModelFileError",
        "Checkpoint record '{dir}/zero-record/seqkit-checkpoint.json' is not a regular file (a character device); "
        "expected a seqkit checkpoint record (JSON)."),
    Row("checkpoint-folder-in-use",
        "StatelessTrainer(..., checkpoint_dir='{dir}/in-use').fit(alphabet())  # while process 4242 trains there",
        lambda p: _train_while_locked(p), "ModelFileError",
        "Checkpoint folder '{dir}/in-use' is in use by another training run (process 4242). Wait for it to finish, or "
        "give another folder."),
    cli("cli-text-dev-zero", "train --text /dev/zero", 1,
        "Text file '/dev/zero' is not a regular file (a character device); expected a UTF-8 text file."),
    # The CLI's own checks (issue 14): outputs checked before any work, numbers refused up front --------------
    cli("cli-out-is-the-text", "train --text {dir}/tokens.txt --out {dir}/tokens.txt", 2,
        "--out '{dir}/tokens.txt' is also the --text input; writing it would destroy the input. Give another path."),
    cli("cli-vocab-save-over-the-text", "vocab --text {dir}/tokens.txt --save {dir}/tokens.txt", 2,
        "--save '{dir}/tokens.txt' is also the --text input; writing it would destroy the input. Give another path."),
    cli("cli-out-is-the-plot", "train --out {dir}/curves.png --plot {dir}/curves.png", 2,
        "--out and --plot name the same path '{dir}/curves.png'; give each its own."),
    cli("cli-checkpoint-is-the-tensorboard-folder", "train --checkpoint {dir}/logs --tensorboard {dir}/logs", 2,
        "--checkpoint and --tensorboard name the same path '{dir}/logs'; give each its own."),
    cli("cli-out-a-device", "train --out /dev/null", 2,
        "Invalid value for '--out': '/dev/null' is a character device, not a regular file; give the path of a file "
        "to create or replace."),
    cli("cli-tensorboard-a-device", "experiments --tensorboard /dev/null", 2,
        "Invalid value for '--tensorboard': '/dev/null' is a character device; give a folder to write in."),
    cli("cli-plot-under-a-file", "train --plot {dir}/tokens.txt/curves.png", 2,
        "Invalid value for '--plot': cannot create '{dir}/tokens.txt/curves.png': '{dir}/tokens.txt' is not a "
        "folder."),
    Row("cli-out-nul-byte", "seqkit train --out 'model\\x00.seqkit'", ["train", "--out", "model\x00.seqkit"],
        "exit 2", "Error: Invalid value for '--out': the path contains a NUL byte."),
    cli("cli-learning-rate-infinite", "train --learning-rate inf", 2,
        "Invalid value for '--learning-rate': inf is not a finite number."),
    cli("cli-dropout-nan", "train --dropout nan", 2, "Invalid value for '--dropout': nan is not a finite number."),
    cli("cli-units-beyond-memory", "train --units 40000", 2,
        "Invalid value for '--units': 40000 is not in the range 1<=x<=16384."),
    cli("cli-seed-too-large", "train --seed 4294967296", 2,
        "Invalid value for '--seed': 4294967296 is not in the range 0<=x<=4294967295."),
    cli("cli-temperature-underflows", "generate {bundle} --prime ABC --temperature 1e-39", 2,
        "Invalid value for '--temperature': 1e-39 is not in the range 0.001<=x<=100.0."),
    cli("cli-generate-seed-too-large", "generate {bundle} --prime ABC --temperature 1 --seed 9223372036854775808", 2,
        "Invalid value for '--seed': 9223372036854775808 is not in the range 0<=x<=9223372036854775807."),
    cli("cli-generate-steps-beyond-bound", "generate {bundle} --prime A --steps 100000000000", 2,
        "Invalid value for '--steps' / '--max-steps': 100000000000 is not in the range 1<=x<=1000000."),
    Row("cli-generate-empty-prime", "seqkit generate {bundle} --prime ''", ["generate", "{bundle}", "--prime", ""],
        "exit 2", "Error: --prime is empty; give at least one token to start from (e.g. --prime A)."),
    cli("cli-cells-invalid-regex", "cells {bundle} --text {bundle} --probe (a", 2,
        "Invalid value for --probe: The probe '(a' is neither a builtin probe (string, comment, bracket_depth, "
        "line_position, indentation, word_start) nor a valid regular expression (missing ), unterminated subpattern "
        "at position 0). Give a builtin name or a valid Python regular expression."),
    Row("cells-short-text", "seqkit.cells(model, 'ABC')", lambda p: seqkit.cells(p["model"], "ABC"), "DataError",
        "cells needs a text of at least 100 tokens to correlate units with probes; got 3. Give a longer text."),
    Row("precision-unknown", "StreamTrainer(precision='bfloat16').fit(...)",
        lambda p: StreamTrainer(precision="bfloat16", **p["tiny"]).fit(seqkit.alphabet()),
        "ConfigurationError",
        "The 'precision' parameter of StreamTrainer must be 'auto', 'float32', 'mixed_float16' or 'mixed_bfloat16'. "
        "Got 'bfloat16' instead."),
    cli("cli-generate-beam-and-temperature", "generate {bundle} --prime A --beam 4 --temperature 0.8", 2,
        "--beam finds the most likely continuations and draws nothing; drop --temperature, --top-k and --top-p, "
        "or drop --beam."),
    Row("generate-steps-beyond-bound", "load_bundle('{bundle}').generate('A', 10**11)",
        lambda p: load_bundle(p["bundle"]).generate("A", 10**11), "ConfigurationError",
        "The 'steps' parameter of SequenceModel.generate must be an int in [0, 1000000]. Got 100000000000 instead."),
    Row("generate-stop-never-generated", "load_bundle('{bundle}').generate('A', 5, stop='é')",
        lambda p: load_bundle(p["bundle"]).generate("A", 5, stop="é"), "DataError",
        "The stop sequence 'é' holds 'é', which is not in the model's vocabulary, so it could never be generated. "
        "Give a stop sequence of the model's tokens."),
    cli("cli-network-beyond-the-bound", "train --units 16384 --layers 8 --epochs 1", 2,
        "The network (8 x LSTM 16384 over 26 tokens) would hold 16,107,143,194 parameters and need 257.7 GB to "
        "train (float32 weights, gradients and Adam's two slots), more than the bound of 50,000,000 parameters "
        "(800.0 MB). Use fewer --units or --layers, or raise the bound with --max-parameters N."),
    cli("cli-network-beyond-max-parameters", "train --units 64 --max-parameters 1000", 2,
        "The network (1 x LSTM 64 over 26 tokens) would hold 18,586 parameters and need 297.4 kB to train "
        "(float32 weights, gradients and Adam's two slots), more than the bound of 1,000 parameters (16.0 kB). "
        "Use fewer --units or --layers, or raise the bound with --max-parameters N."),
    cli("cli-one-token", "train --tokens A --epochs 1 --units 4", 1,
        "The corpus 'tokens' holds 1 token: training needs at least 2, a token and the one that follows it. "
        "Give a longer text."),
    cli("cli-predict-top-k-beyond-the-vocabulary", "predict {bundle} AB -k 1000", 2,
        "Invalid value for '--top-k' / '-k': 1000 is more than the 26 tokens of the model's vocabulary; give at "
        "most 26."),
    cli("cli-unknown-token-with-subwords", "train --text {dir}/tokens.txt --level bpe --unknown-token <unk>", 2,
        "--unknown-token applies to --level char or word: a bpe tokenizer splits any text into its pieces, so it "
        "needs none."),
    cli("cli-unknown-token-with-init-from", "train --init-from {bundle} --unknown-token <unk>", 2,
        "--unknown-token applies to a new network: a model continued with --init-from keeps its own vocabulary "
        "and size; leave it out."),
    cli("cli-temperature-beyond-the-bound", "generate {bundle} --prime ABC --temperature 1e308", 2,
        "Invalid value for '--temperature': 1e+308 is not in the range 0.001<=x<=100.0."),
    cli("cli-evaluate-two-sources", "evaluate {dir}/missing.seqkit --alphabet --tokens A", 2,
        "Give one data source, not --alphabet and --tokens."),
    cli("cli-lines-without-text", "train --lines", 2,
        "--lines applies to --text only: it makes each line of the text a document."),
    cli("cli-stdin-twice", "train --text - --text -", 2,
        "Invalid value for '--text': '-' (standard input) can be read once."),
    cli("cli-startup-timeout-without-multi-worker", "train --startup-timeout 5", 2,
        "--startup-timeout applies to --strategy multi-worker only."),
    # A bundle is accepted only if its parts agree (issue 26) ----------------------------------------
    Row("bundle-weights-nan", "load_bundle('{dir}/nan.seqkit')  # every weight NaN",
        lambda p: load_bundle(_crafted_bundle(p, "nan", weights=float("nan"))), "ModelFileError",
        f"Bundle '{{dir}}/nan.seqkit' has weights that are not finite: layer 'lstm_1' of its network holds NaN, so "
        f"it cannot predict. {FINITE_FIX}"),
    Row("bundle-units-disagree", "load_bundle('{dir}/units.seqkit')  # units 9999 recorded for a 4-unit network",
        lambda p: load_bundle(_crafted_bundle(p, "units", model={"units": 9999}, hyperparameters={"units": 9999})),
        "ModelFileError",
        "Bundle '{dir}/units.seqkit' is inconsistent: spec.json 'spec.model.units' is 9999, but its network has 4 "
        f"units per recurrent layer. {RESAVE}"),
    Row("bundle-window-disagrees", "load_bundle('{dir}/window.seqkit')  # window 5 recorded for a window-3 network",
        lambda p: load_bundle(_crafted_bundle(p, "window", hyperparameters={"window": 5})), "ModelFileError",
        "Bundle '{dir}/window.seqkit' is inconsistent: spec.json 'spec.hyperparameters.window' is 5, but its network "
        f"reads windows of 3 tokens. {RESAVE}"),
    Row("bundle-trainer-unknown", "load_bundle('{dir}/evil.seqkit')  # trainer 'EvilTrainer'",
        lambda p: load_bundle(_crafted_bundle(p, "evil", record={"trainer": "EvilTrainer"})), "ModelFileError",
        "Bundle '{dir}/evil.seqkit' is corrupted: spec.json 'spec.trainer' must be one of 'StatelessTrainer', "
        f"'InBatchTrainer', 'StatefulTrainer', 'StreamTrainer'; got 'EvilTrainer'. {RESAVE}"),
    Row("bundle-reset-unknown", "load_bundle('{dir}/sometimes.seqkit')  # reset 'sometimes'",
        lambda p: load_bundle(_crafted_bundle(p, "sometimes", hyperparameters={"reset": "sometimes"})),
        "ModelFileError",
        "Bundle '{dir}/sometimes.seqkit' is corrupted: spec.json 'spec.hyperparameters.reset' is invalid (Unknown "
        f"reset policy 'sometimes': expected 'epoch', 'boundary', 'every:K' (K >= 1) or 'never'.) {RESAVE}"),
    Row("bundle-char-token-of-two-characters", "load_bundle('{dir}/ab.seqkit')  # the character-level token 'AB'",
        lambda p: load_bundle(_crafted_bundle(p, "ab", vocabulary=Vocabulary([*"ABCDEFGHIJKLMNOPQRSTUVWXY", "AB"]))),
        "ModelFileError",
        "Bundle '{dir}/ab.seqkit' is inconsistent: its character-level vocabulary holds the token 'AB', which is not "
        "one character, so generated text would not split back into its tokens. Train at the level its tokens were "
        "split at, or save the model again with save_bundle."),
    cli("cli-inspect-weights-nan", "inspect {dir}/nan.seqkit", 1,
        f"Bundle '{{dir}}/nan.seqkit' has weights that are not finite: layer 'lstm_1' of its network holds NaN, so it "
        f"cannot predict. {FINITE_FIX}"),
    cli("cli-inspect-units-disagree", "inspect {dir}/units.seqkit", 1,
        "Bundle '{dir}/units.seqkit' is inconsistent: spec.json 'spec.model.units' is 9999, but its network has 4 "
        f"units per recurrent layer. {RESAVE}"),
]


def fill(text: str, paths: dict[str, Any]) -> str:
    return text.format(**{name: value for name, value in paths.items() if isinstance(value, str)})


# Fixtures -------------------------------------------------------------------------------
TINY = dict(window=3, units=4, batch_size=4, epochs=2)


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("bad-inputs")
    (folder / "tokens.txt").write_text("A\nB\nC\n", encoding="utf-8")
    (folder / "latin1.txt").write_bytes("Café".encode("latin-1"))
    (folder / "empty.txt").write_bytes(b"")
    (folder / "no-documents").mkdir()
    run = folder / "run"
    model, _ = StatelessTrainer(**TINY, checkpoint_dir=run).fit(seqkit.alphabet())
    bundle = save_bundle(model, folder / "alphabet.seqkit")
    (folder / "half.seqkit").write_bytes(bundle.read_bytes()[: bundle.stat().st_size // 2])
    paths = {"dir": str(folder), "bundle": str(bundle), "run": str(run), "model": model, "tiny": dict(TINY)}
    _crafted_bundle(paths, "nan", weights=float("nan"))  # for the CLI rows
    _crafted_bundle(paths, "units", model={"units": 9999}, hyperparameters={"units": 9999})
    return paths


# The tests ------------------------------------------------------------------------------
def test_the_table_has_at_least_30_rows_with_distinct_ids() -> None:
    assert len(ROWS) >= 30
    assert len({row.id for row in ROWS}) == len(ROWS)
    assert {row.surface for row in ROWS} == {"API", "CLI"}


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_bad_input_gets_its_exact_message(row: Row, paths: dict[str, Any], runner: Any) -> None:
    expected = fill(row.message, paths)
    if isinstance(row.trigger, list):
        from seqkit.cli.main import main

        args = [fill(arg, paths) for arg in row.trigger]
        result = runner.invoke(main, args, catch_exceptions=False)
        assert f"exit {result.exit_code}" == row.error, result.output
        assert result.stderr.rstrip("\n").splitlines()[-1] == expected
        assert "Traceback" not in result.output and result.stdout == ""
    else:
        with pytest.raises(SeqkitError) as caught:
            row.trigger(paths)
        assert type(caught.value).__name__ == row.error
        assert str(caught.value) == expected


def test_docs_list_every_row() -> None:
    """docs/reliability.md holds the table generated from ROWS (docs/make_bad_inputs_table.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_bad_inputs_table", ROOT / "docs" / "make_bad_inputs_table.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    document = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    assert module.render(ROWS) in document, "run: .venv/bin/python docs/make_bad_inputs_table.py"


# Hostile files and folders (issue 14): what the rows above build -----------------------------
def _fifo(paths: dict[str, Any]) -> str:
    import os

    path = Path(paths["dir"]) / "pipe"
    if not path.exists():
        os.mkfifo(path)
    return str(path)


def _copy_of_run(paths: dict[str, Any], name: str) -> Path:
    import shutil

    folder = Path(paths["dir"]) / name
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(paths["run"], folder, symlinks=True)
    return folder


def _resume_copy_of_run(paths: dict[str, Any], name: str, change: Callable[[Path], Any]) -> Any:
    folder = _copy_of_run(paths, name)
    change(folder)
    return StatelessTrainer(**paths["tiny"], checkpoint_dir=folder).fit(seqkit.alphabet(), resume=True)


def _pointer_outside(folder: Path) -> None:
    """The issue's crafted pointer: an older entry replaced by a glob outside, newer than last_preserved."""
    victim = folder.parent / "victim"
    victim.mkdir(exist_ok=True)
    (victim / "weights.index").write_text("keep me")
    (folder / "checkpoint").write_text(
        'model_checkpoint_path: "ckpt-2"\n'
        f'all_model_checkpoint_paths: "{victim}/*"\n'
        'all_model_checkpoint_paths: "ckpt-2"\n'
        "all_model_checkpoint_timestamps: 4102444800.0\n"
        "all_model_checkpoint_timestamps: 4102444800.5\n"
        "last_preserved_timestamp: 1.0\n"
    )


def _record_to_dev_zero(folder: Path) -> None:
    (folder / "seqkit-checkpoint.json").unlink()
    (folder / "seqkit-checkpoint.json").symlink_to("/dev/zero")


def _train_while_locked(paths: dict[str, Any]) -> Any:
    import fcntl

    folder = Path(paths["dir"]) / "in-use"
    folder.mkdir(exist_ok=True)
    with open(folder / "seqkit-checkpoint.lock", "w") as handle:
        handle.write("4242\n")
        handle.flush()
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        return StatelessTrainer(**paths["tiny"], checkpoint_dir=folder).fit(seqkit.alphabet())


def _crafted_bundle(
    paths: dict[str, Any],
    name: str,
    *,
    record: dict[str, Any] | None = None,
    hyperparameters: dict[str, Any] | None = None,
    model: dict[str, Any] | None = None,
    vocabulary: Vocabulary | None = None,
    weights: float | None = None,
    dense_units: int | None = None,
    weights_declared: int | None = None,
) -> str:
    """A copy of the fixture bundle with its training record (or its hyperparameters or model entries), vocabulary,
    every weight, Dense units or a Keras entry's declared size changed."""
    import hashlib
    import io
    import json
    import tempfile
    import zipfile

    import keras
    import numpy as np

    def unzip(data: bytes) -> dict[str, bytes]:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return {info.filename: archive.read(info) for info in archive.infolist()}

    def zipped(members: dict[str, bytes]) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for member, data in members.items():
                archive.writestr(member, data)
        return buffer.getvalue()

    members = unzip(Path(paths["bundle"]).read_bytes())
    spec = json.loads(members["spec.json"])
    spec["spec"].update(record or {})
    for entry, fields in (("hyperparameters", hyperparameters), ("model", model)):
        if fields:
            spec["spec"][entry].update(fields)
    if vocabulary is not None:
        members["vocabulary.json"] = vocabulary.to_json().encode()
    if weights is not None:
        network = keras.models.clone_model(paths["model"].network)
        network.set_weights([np.full(weight.shape, weights, dtype="float32") for weight in network.get_weights()])
        with tempfile.TemporaryDirectory() as folder:
            network.save(Path(folder) / "model.keras")
            members["model.keras"] = (Path(folder) / "model.keras").read_bytes()
    inner = unzip(members["model.keras"])
    if dense_units is not None:
        config = json.loads(inner["config.json"])
        dense = next(layer for layer in config["config"]["layers"] if layer["class_name"] == "Dense")
        dense["config"]["units"] = dense_units
        inner["config.json"] = json.dumps(config).encode()
    network = zipped(inner)
    if weights_declared is not None:  # the central directory's uncompressed size of model.weights.h5
        data = bytearray(network)
        entry = data.find(b"PK\x01\x02")
        while data[entry + 46 : entry + 46 + len(b"model.weights.h5")] != b"model.weights.h5":
            entry = data.find(b"PK\x01\x02", entry + 4)
        data[entry + 24 : entry + 28] = weights_declared.to_bytes(4, "little")
        network = bytes(data)
    members["model.keras"] = network
    for member in ("vocabulary.json", "model.keras"):
        spec["members"][member] = {"sha256": hashlib.sha256(members[member]).hexdigest(), "bytes": len(members[member])}
    members["spec.json"] = json.dumps(spec).encode()
    path = Path(paths["dir"]) / f"{name}.seqkit"
    path.write_bytes(zipped(members))
    return str(path)
