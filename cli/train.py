"""``seqkit train``: fit an LSTM on a corpus and save it as a bundle."""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .cluster import DEFAULT_STARTUP_TIMEOUT, PeersUnreachable, read_cluster, wait_for_peers
from .errors import Interrupted, SeqkitCommand, checked, interrupt_exit_code
from .options import (
    ENCODING_NAMES,
    LAYOUT_NAMES,
    MAX_PARAMETERS,
    MAX_UNITS,
    CELL_NAMES,
    NETWORK_DEFAULTS,
    TRAINING_BYTES_PER_PARAMETER,
    POSITIVE,
    SEED,
    STRATEGY_NAMES,
    SUBWORD_LEVEL_NAMES,
    TRAINER_NAMES,
    DataSource,
    FiniteFloatRange,
    PathType,
    ResetPolicyType,
    ScheduleType,
    data_options,
    figure_options,
    model_level,
    network_parameters,
    open_bundle,
    require_plotting,
    output_options,
)
from .paths import Input, Output, check_outputs
from .scores import DEFAULT_BASELINE_ORDER, baseline_scores, model_name, model_row, scores_table
from .subwords import DEFAULT_VOCAB_SIZE, subword_data
from .train_report import summary, summary_rows
from .render import UI, data_size, key_value_table, terminal_safe

if TYPE_CHECKING:
    import keras

    from seqkit.datasets import Corpus
    from seqkit.sequence_model import SequenceModel
    from seqkit.trainers import Trainer


def check_unknown_token(ctx: click.Context | None, param: click.Parameter | None, token: str | None) -> str | None:
    """``--unknown-token``: a non-empty token without whitespace or control characters (exit 2 otherwise).

    >>> check_unknown_token(None, None, "<unk>")
    '<unk>'
    >>> check_unknown_token(None, None, "")
    Traceback (most recent call last):
    ...
    click.exceptions.BadParameter: give a non-empty token without whitespace or control characters, e.g. '<unk>'; got ''.
    """
    if token is not None and (not token.isprintable() or token.split() != [token]):
        raise click.BadParameter(
            "give a non-empty token without whitespace or control characters, e.g. '<unk>'; "
            f"got {terminal_safe(repr(token))}.", param_hint="'--unknown-token'",
        )
    return token


@click.command(cls=SeqkitCommand, short_help="Train a model on a corpus and save it as a bundle.")
@data_options
@click.option("--trainer", "trainer_name", type=click.Choice(TRAINER_NAMES), default=None,
              help="stateless: independent windows; in-batch: the whole dataset as one batch; "
                   "stateful: state carried from batch to batch; stream: long text as parallel streams. "
                   "[default: stateless; with --init-from, the model's]")
@click.option("--window", type=POSITIVE, default=None,
              help="Tokens per input window (stream: the segment length). [default: 1; stream 64]")
@click.option("--stride", type=POSITIVE, default=None,
              help="Tokens between window starts. [default: 1; the window length for stateful]")
@click.option("--layout", type=click.Choice(LAYOUT_NAMES), default=None,
              help="A window as L time steps, or as one step of L features. [default: timesteps]")
@click.option("--encoding", type=click.Choice(ENCODING_NAMES), default=None,
              help="Token ids scaled to [0, 1) (the tutorial's), one-hot vectors, or a learned embedding. "
                   "[default: scaled]")
@click.option("--units", type=click.IntRange(1, MAX_UNITS), default=None,
              help=f"LSTM units per layer, at most {MAX_UNITS}. [default: 32; in-batch 16, stream 128]")
@click.option("--layers", type=POSITIVE, default=None, help="Stacked LSTM layers. [default: 1]")
@click.option("--dropout", type=FiniteFloatRange(0, 1, max_open=True), default=None,
              help="Dropout after each LSTM layer. [default: 0]")
@click.option("--epochs", type=POSITIVE, default=None, help="Passes over the data. [default: 500; in-batch 5000, stream 10]")
@click.option("--batch-size", type=POSITIVE, default=None,
              help="Samples per step (stateful, stream: parallel streams). [default: 1; stream 32]")
@click.option("--learning-rate", type=FiniteFloatRange(0, min_open=True), default=None,
              help="Adam's learning rate. [default: 0.001]")
@click.option("--cell", type=click.Choice(CELL_NAMES), default=None,
              help="The recurrent cell: LSTM or GRU. [default: lstm]")
@click.option("--clip-norm", type=FiniteFloatRange(0, min_open=True), default=None, metavar="NORM",
              help="Clip the gradients to this global norm before each update (char-rnn's grad_clip, e.g. 5).")
@click.option("--lr-schedule", type=ScheduleType(), default=None,
              help="constant; cosine[:W]: W warmup steps, then a cosine decay to 0; plateau[:P]: halve the rate when "
                   "the held-out (else training) loss has not improved for P epochs. [default: constant]")
@click.option("--reset", type=ResetPolicyType(), default=None, metavar="epoch|boundary|every:K|never",
              help="Stateful and stream: when to zero the state. [default: epoch; stream boundary]")
@click.option("--seed", type=SEED, default=None,
              help="Seeds weights and shuffling; the same seed gives the same model on CPU. [default: 7]")
@click.option("--jit", type=click.Choice(("auto", "on", "off")), default="auto", show_default=True,
              help="XLA compilation of the training steps. auto: the device policy decides (on a CPU XLA for "
                   "small models, a plain graph for large ones; on a GPU cuDNN or XLA, whichever is faster for "
                   "the model; see seqkit info).")
@click.option("--kernel", type=click.Choice(("auto", "on", "off")), default="auto", show_default=True,
              help="Stream: train through seqkit's own LSTM kernel (same weights and results as Keras's layer, "
                   "twice as fast under XLA). auto: the device policy decides.")
@click.option("--precision", type=click.Choice(("auto", "float32", "mixed_float16", "mixed_bfloat16")), default=None,
              help="float32, or mixed precision (float32 weights and loss; mixed_float16 needs a GPU). "
                   "auto: bfloat16 matmuls on a CPU with AMX for large stream models, else float32. "
                   "[default: auto for --trainer stream, float32 for the others]")
@click.option("--validation-split", type=FiniteFloatRange(0, 1, min_open=True, max_open=True), default=None,
              metavar="FRACTION", help="Hold out this fraction of the end of every document and score it after "
                                       "every epoch (val loss, bits per token), e.g. 0.1.")
@click.option("--validation-text", "validation_path", type=PathType(exists=True, dir_okay=False, path_type=Path),
              default=None, metavar="FILE", help="Score this text (split like --text) after every epoch instead.")
@click.option("--test-split", type=FiniteFloatRange(0, 1, min_open=True, max_open=True), default=None,
              metavar="FRACTION", help="Hold out this fraction of the end of every document (before the validation "
                                       "split) as a test set, never trained on nor used to select; scored once at "
                                       "the end and saved in the bundle.")
@click.option("--test-text", "test_path", type=PathType(exists=True, dir_okay=False, path_type=Path), default=None,
              metavar="FILE", help="Score this text as the test set instead.")
@click.option("--baseline", is_flag=True,
              help="Also score a Kneser-Ney n-gram model and lzma on the same training text and test set "
                   "(needs --test-split or --test-text).")
@click.option("--baseline-order", type=click.IntRange(1, 32), default=None, metavar="N",
              help=f"The n-gram order of --baseline. [default: {DEFAULT_BASELINE_ORDER}]")
@click.option("--early-stopping", type=POSITIVE, default=None, metavar="PATIENCE",
              help="Stop when the held-out loss has not improved for PATIENCE epochs, and keep the best weights "
                   "(needs --validation-split or --validation-text).")
@click.option("--sample-every", type=POSITIVE, default=None, metavar="N",
              help="Every N epochs print a line generated from the start of the corpus (and log it to "
                   "--tensorboard as text).")
@click.option("--until-accuracy", type=FiniteFloatRange(0, 1, min_open=True), default=None, metavar="FRACTION",
              help="Stop as soon as training accuracy reaches this fraction, e.g. 0.95.")
@click.option("--strategy", type=click.Choice(STRATEGY_NAMES), default=None,
              help="tf.distribute strategy (not for --trainer stateful). mirrored: every local GPU (or "
                   "logical CPU device); multi-worker: the cluster in TF_CONFIG. [default: default]")
@click.option("--startup-timeout", type=FiniteFloatRange(0, min_open=True), default=None, metavar="SECONDS",
              help=f"With --strategy multi-worker: how long to wait for the other workers of TF_CONFIG before "
                   f"failing. [default: {DEFAULT_STARTUP_TIMEOUT:g}]")
@click.option("--out", "out_path", type=PathType(dir_okay=False, path_type=Path), default=None, metavar="BUNDLE",
              help="Save the model to this bundle file (e.g. model.seqkit), replacing it atomically.")
@click.option("--checkpoint", "checkpoint_dir", type=PathType(file_okay=False, path_type=Path), default=None,
              metavar="DIR", help="Save the training state to this folder after every epoch (see --resume).")
@click.option("--checkpoint-every", type=POSITIVE, default=None, metavar="K",
              help="With --checkpoint: save every K epochs (and after the last). [default: 1]")
@click.option("--checkpoint-steps", type=POSITIVE, default=None, metavar="N",
              help="With --checkpoint: also save every N optimizer steps inside an epoch (for long epochs; "
                   "--resume continues from that step).")
@click.option("--resume", is_flag=True,
              help="Continue the run saved in --checkpoint DIR (same settings and data; --epochs may grow).")
@click.option("--vocab-size", type=click.IntRange(257, 1_000_000), default=None, metavar="N",
              help=f"With --level bpe or unigram: the pieces of the tokenizer trained on the training text, the 256 "
                   f"byte pieces included. [default: {DEFAULT_VOCAB_SIZE}]")
@click.option("--init-from", "init_path", type=PathType(exists=True, dir_okay=False, path_type=Path), default=None,
              metavar="BUNDLE", help="Fine-tune: start from this saved model's weights, with its vocabulary, cell, "
                                     "size and layout, on new data.")
@click.option("--extend-vocabulary", is_flag=True,
              help="With --init-from: let the vocabulary grow by the new tokens of the data (old ids and weights kept).")
@click.option("--unknown-token", metavar="TOKEN", default=None, callback=check_unknown_token,
              help="Add TOKEN (e.g. '<unk>') to the vocabulary and read every token the vocabulary lacks as it, so "
                   "that evaluate and predict take text with tokens the training text never had (--level char "
                   "or word).")
@click.option("--max-parameters", type=POSITIVE, default=None, metavar="N",
              help=f"The most parameters the network may hold: a larger one is refused before anything is built, "
                   f"with its size and the memory training it needs. Raise it deliberately: seqkit's loader refuses "
                   f"a bundle of more than {MAX_PARAMETERS:,}. [default: {MAX_PARAMETERS:,}]")
@figure_options
@output_options
def train(
    *,
    data: DataSource,
    trainer_name: str,
    window: int | None,
    stride: int | None,
    layout: str | None,
    encoding: str | None,
    units: int | None,
    layers: int | None,
    dropout: float | None,
    epochs: int | None,
    batch_size: int | None,
    learning_rate: float | None,
    cell: str | None,
    clip_norm: float | None,
    lr_schedule: str | None,
    reset: str | None,
    seed: int | None,
    jit: str,
    kernel: str,
    precision: str | None,
    validation_split: float | None,
    validation_path: Path | None,
    test_split: float | None,
    test_path: Path | None,
    baseline: bool,
    baseline_order: int | None,
    early_stopping: int | None,
    sample_every: int | None,
    until_accuracy: float | None,
    strategy: str | None,
    startup_timeout: float | None,
    out_path: Path | None,
    checkpoint_dir: Path | None,
    checkpoint_every: int | None,
    checkpoint_steps: int | None,
    resume: bool,
    vocab_size: int | None,
    init_path: Path | None,
    extend_vocabulary: bool,
    unknown_token: str | None,
    max_parameters: int | None,
    plot_path: Path | None,
    tensorboard_dir: Path | None,
    ui: UI,
) -> None:
    """Train an LSTM to predict the next token, and save it with --out.

    The data is the alphabet unless --text FILE (or '-' for standard input) or
    --tokens "..." is given. Several --text files, a folder (--text DIR: every
    file in it) or --lines (each line) give several documents: windows never
    cross from one to the next, and --reset boundary zeroes a stateful model's
    state between them. The table at the end shows the training accuracy of
    the last epoch (averaged while the weights changed) and the trained
    model's accuracy on the training windows (a stream model's: its first
    2,000 tokens, read in order).

    The network's size is checked before anything is built: more than
    --max-parameters (50,000,000 unless given) is refused, with the
    parameters and the memory training them would need.

    Every output path is checked before training starts: it must be writable,
    a regular or new file (a folder for --checkpoint and --tensorboard), and
    differ from the inputs and from the other outputs.

    The defaults shown are the stateless trainer's; an option you leave out keeps
    the chosen trainer's own default (in-batch: LSTM 16 for 5000 epochs, as in the
    tutorial; stream: segments of 64 steps on 32 streams through an embedding).

    \b
    Examples:
      seqkit train --window 3 --epochs 200 --out alphabet.seqkit
      seqkit train --trainer stateful --reset every:5 --units 50 --out stateful.seqkit
      cat notes.txt | seqkit train --text - --level word --window 2 --out notes.seqkit
      seqkit train --window 3 --plot curves.png --tensorboard logs/
      seqkit train --trainer stateful --epochs 300 --checkpoint run/ --resume --out stateful.seqkit
      seqkit train --trainer stream --text book.txt --checkpoint run/ --checkpoint-steps 500 --resume
      seqkit train --text songs/ --level word --trainer stateful --reset boundary --out songs.seqkit
      seqkit train --trainer stream --text code.txt --test-split 0.1 --baseline --clip-norm 5 --out code.seqkit
      seqkit train --text more.txt --init-from code.seqkit --epochs 2 --out tuned.seqkit
    """
    if validation_split is not None and validation_path is not None:
        raise click.UsageError("Give one of --validation-split and --validation-text, not both.")
    if test_split is not None and test_path is not None:
        raise click.UsageError("Give one of --test-split and --test-text, not both.")
    if baseline and test_split is None and test_path is None:
        raise click.UsageError("--baseline scores the test set: give --test-split F or --test-text FILE too.")
    if baseline_order is not None and not baseline:
        raise click.UsageError("--baseline-order sets the n-gram of --baseline: give --baseline too.")
    baseline_order = baseline_order or DEFAULT_BASELINE_ORDER
    if cell == "gru" and kernel == "on":
        raise click.UsageError("--kernel on computes LSTMs only: leave --kernel auto (or off) with --cell gru.")
    if extend_vocabulary and init_path is None:
        raise click.UsageError("--extend-vocabulary grows the vocabulary of the model given with --init-from BUNDLE.")
    if vocab_size is not None and (data.level not in SUBWORD_LEVEL_NAMES or init_path is not None):
        raise click.UsageError(
            "--vocab-size sets the pieces of a new subword tokenizer: it applies to --level bpe or unigram, "
            "without --init-from (a continued model keeps its own)."
        )
    if init_path is not None and (unknown_token is not None or max_parameters is not None):
        given = "--unknown-token" if unknown_token is not None else "--max-parameters"
        raise click.UsageError(f"{given} applies to a new network: a model continued with --init-from keeps its "
                               "own vocabulary and size; leave it out.")
    if unknown_token is not None and data.level in SUBWORD_LEVEL_NAMES:
        raise click.UsageError(f"--unknown-token applies to --level char or word: a {data.level} tokenizer splits "
                               "any text into its pieces, so it needs none.")
    data.check()
    continued = open_bundle(str(init_path)) if init_path is not None else None
    trainer_name = trainer_name or ("stateless" if continued is None else cli_trainer_name(continued))
    if reset is not None and trainer_name == "stream" and reset not in ("epoch", "boundary"):
        raise click.UsageError(f"--trainer stream resets at 'epoch' or 'boundary' only; got --reset {reset}.")
    if checkpoint_dir is None and (resume or checkpoint_every is not None or checkpoint_steps is not None):
        given = "--resume" if resume else "--checkpoint-every" if checkpoint_every is not None else "--checkpoint-steps"
        raise click.UsageError(f"{given} needs --checkpoint DIR: the folder the training state is saved in.")
    if early_stopping is not None and validation_split is None and validation_path is None:
        raise click.UsageError("--early-stopping watches the held-out loss: give --validation-split F or "
                               "--validation-text FILE too.")
    if startup_timeout is not None and strategy != "multi-worker":
        raise click.UsageError("--startup-timeout applies to --strategy multi-worker only.")
    outputs = [
        Output(option, path, folder)
        for option, path, folder in (("--out", out_path, False), ("--plot", plot_path, False),
                                     ("--checkpoint", checkpoint_dir, True), ("--tensorboard", tensorboard_dir, True))
        if path is not None
    ]
    read = [Input(option, path) for option, path in (
        ("--validation-text", validation_path), ("--test-text", test_path), ("--init-from", init_path),
    ) if path is not None]
    targets = check_outputs(outputs, [*data.inputs(), *read])
    require_plotting(plot_path)
    validation: Any = validation_split
    test: Any = test_split
    vocabulary = None
    if data.level in SUBWORD_LEVEL_NAMES and continued is None:  # the tokenizer learns from the training part only
        corpus, validation, test, vocabulary = subword_data(
            data, data.level, vocab_size=vocab_size, validation_split=validation_split,
            validation_path=validation_path, test_split=test_split, test_path=test_path,
        )
        validation_split = test_split = None  # cut already, at the same fractions of every document's characters
        validation_path = test_path = None
        ui.note(f"Trained a {data.level} vocabulary of {vocabulary.size} pieces on the training text.")
    else:
        corpus = data.load(
            default_level=model_level(continued) if continued is not None else "char",
            vocabulary=None if continued is None else continued.vocabulary,
        )
    check_trainable(corpus)
    if continued is None:
        if vocabulary is None:
            vocabulary = corpus.vocabulary(unknown_token=unknown_token)
        check_network_size(
            trainer_name, dict(units=units, layers=layers, cell=cell, window=window, layout=layout, encoding=encoding),
            vocabulary.size, MAX_PARAMETERS if max_parameters is None else max_parameters,
        )
    from seqkit.trainers import TRAINERS  # TensorFlow is imported from here on

    # Only the options given are passed: the trainer keeps its own defaults for the others.
    settings = {
        name: value
        for name, value in dict(
            window=window, stride=stride, layout=layout, encoding=encoding, units=units, layers=layers,
            dropout=dropout, epochs=epochs, learning_rate=learning_rate, batch_size=batch_size, reset=reset,
            cell=cell, clip_norm=clip_norm, lr_schedule=lr_schedule,
            seed=seed, precision=precision, strategy=strategy, checkpoint_dir=checkpoint_dir,
            checkpoint_every=checkpoint_every, checkpoint_steps=checkpoint_steps, jit_compile={"auto": None, "on": True, "off": False}[jit],
            kernel={"auto": None, "on": True, "off": False}[kernel],
        ).items()
        if value is not None
    }
    trainer_class = TRAINERS[trainer_name]
    for name in settings:
        reason = trainer_class.why_not(name)  # what a trainer accepts is declared on the trainer
        if reason is not None:
            option = "--jit" if name == "jit_compile" else "--" + name.replace("_", "-").replace("-dir", "")
            raise click.UsageError(f"{option} does not apply to --trainer {trainer_name}{reason}")
    if continued is not None:
        settings = continued_settings(continued, settings, trainer_class, init_path, data.level)
    from seqkit.callbacks import EpochEnd, StopAtAccuracy
    from seqkit.engine.policy import PrecisionWarning

    trainer = trainer_class(**settings)
    epochs = int(trainer.epochs)
    if reset == "boundary" and len(corpus.sequences) == 1:
        ui.note("The corpus is one document, so --reset boundary resets only where each epoch starts, as "
                "--reset epoch does. Give several --text files, a folder, or --lines for several documents.")
    start_epoch = 0
    if resume and checkpoint_dir is not None:
        where = saved_position(checkpoint_dir)
        start_epoch = where[0] if where else 0
        ui.note(f"Resuming from the checkpoint in {checkpoint_dir} at {position_text(where)}." if where
                else f"No checkpoint in {checkpoint_dir} yet: training starts at epoch 0.")
    callbacks: list[keras.callbacks.Callback] = []
    if until_accuracy is not None:
        callbacks.append(StopAtAccuracy(until_accuracy))
    if tensorboard_dir is not None:
        from seqkit.callbacks import TensorBoardLog

        callbacks.append(TensorBoardLog(targets["--tensorboard"]))
    from seqkit.datasets import load_text

    subword = getattr(corpus, "subword", None)
    if validation_path is not None:
        validation = load_text(validation_path, level=corpus.level, vocabulary=subword)
    if test_path is not None:
        test = load_text(test_path, level=corpus.level, vocabulary=subword)
    if early_stopping is not None:
        import keras

        callbacks.append(keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=early_stopping, restore_best_weights=True
        ))
    if sample_every is not None:
        from seqkit.callbacks import SampleText

        prime = list(corpus.sequences[0][: 1 if trainer_class.stateful else int(trainer.window)])
        callbacks.append(SampleText(
            sample_every, prime, steps=60, separator=" " if corpus.level == "word" else "",
            function=lambda epoch, text: ui.note(f"epoch {epoch + 1} sample: {terminal_safe(text)}"),
            log_dir=targets.get("--tensorboard"),
        ))
    documents = f", {len(corpus.sequences)} documents" if len(corpus.sequences) > 1 else ""
    ui.note(f"Training {trainer_name} on {corpus.name} ({len(corpus)} tokens{documents}) for {epochs} epochs...")
    if strategy == "multi-worker":
        wait_for_cluster(startup_timeout, ui)
    with ui.progress() as progress, warnings.catch_warnings():
        warnings.simplefilter("always", PrecisionWarning)
        warnings.showwarning = notes_for(PrecisionWarning, ui, warnings.showwarning)
        callbacks.append(EpochEnd(checked(progress.track(f"{trainer_name} on {corpus.name}", epochs))))
        try:
            model, history = trainer.fit(
                corpus, vocabulary=vocabulary, validation=validation, test=test, init_from=continued,
                extend_vocabulary=extend_vocabulary,
                callbacks=callbacks, resume=resume,
            )
        except KeyboardInterrupt as interrupt:
            raise Interrupted(
                interrupted_message(max(progress.completed, start_epoch), epochs, out_path, checkpoint_dir),
                interrupt_exit_code(interrupt),
            ) from None
        progress.finish()
    final_loss = history.loss[-1] if history.loss else None
    if final_loss is not None and not math.isfinite(final_loss):
        kept = f"'{out_path}' was not changed" if out_path is not None else "nothing was saved"
        raise click.ClickException(
            f"Training diverged: the loss is {final_loss} after epoch {history.epochs}; {kept}. "
            f"Train again with a lower --learning-rate (this run: {trainer.get_params().get('learning_rate')})."
        )
    rest, test_corpus = trainer.split_test(corpus, test) if test is not None else (corpus, None)
    scored = rest if validation_split is None else trainer.split(rest, validation_split, model.vocabulary)[0]
    windows = trainer.evaluation_windows(scored, model.vocabulary)
    training_windows = len(trainer.training_windows(scored, model.vocabulary))
    evaluation = model.evaluate(windows)
    rows = [] if "test" not in model.spec else [model_row(model_name(model), model.spec["test"])]
    if baseline and test_corpus is not None:
        ui.note(f"Scoring the baselines (Kneser-Ney {baseline_order}-gram, lzma) on the same split...")
        rows += baseline_scores(scored, test_corpus, model.vocabulary, order=baseline_order)
        model.spec["test"]["baselines"] = rows[1:]
    if out_path is not None:
        model.save(targets["--out"])
    if plot_path is not None:
        from seqkit.plot import plot_history

        plot_history({f"{trainer_name} on {corpus.name}": history}, targets["--plot"],
                     title=f"seqkit train: {trainer_name}, {epochs} epochs")
        ui.note(f"Training curves drawn to {plot_path}.")
    if tensorboard_dir is not None:
        ui.note(f"TensorBoard logs in {tensorboard_dir}: tensorboard --logdir {tensorboard_dir}")
    report = summary(model, history, trainer, evaluation.accuracy, out_path, restored=early_stopping is not None,
                     evaluation_windows=len(windows), training_windows=training_windows)
    ui.result(key_value_table("Trained", summary_rows(report)))
    if rows:
        ui.result(scores_table(f"Test set: {test_corpus.name if test_corpus else 'test'}", rows))
    if out_path is None:
        ui.note("Not saved: pass --out FILE.seqkit to keep the model.")
    ui.emit_json(report)


def saved_position(checkpoint_dir: Path) -> tuple[int, int] | None:
    """``(epochs completed, steps of the next)`` of the latest checkpoint in ``checkpoint_dir``; None if
    there is none (or it cannot be read)."""
    from seqkit.checkpoint import latest_position
    from seqkit.errors import SeqkitError

    try:
        position = latest_position(checkpoint_dir)
    except (SeqkitError, OSError):
        return None
    return None if position is None or (position.epoch, position.step) == (0, 0) else (position.epoch, position.step)


def position_text(position: tuple[int, int]) -> str:
    """``epoch 3``, or ``epoch 3, step 150`` for a checkpoint saved inside an epoch."""
    epoch, step = position
    return f"epoch {epoch}" + (f", step {step}" if step else "")


def interrupted_message(completed: int, epochs: int, out_path: Path | None, checkpoint_dir: Path | None) -> str:
    """What an interrupted training says: where it stopped, what was kept, and how to resume.

    The checkpoint's epoch is read from the folder itself: a save may have been cut
    short, so it can be behind the epochs completed.
    """
    kept = f"'{out_path}' was not changed" if out_path is not None else "nothing was saved"
    if checkpoint_dir is not None:
        saved = saved_position(checkpoint_dir)
        if saved:
            kept += (f"; the last checkpoint holds {position_text(saved)}: continue with --checkpoint "
                     f"{checkpoint_dir} --resume")
        else:
            kept += f"; no checkpoint was written yet: start again with --checkpoint {checkpoint_dir} --resume"
    return terminal_safe(f"Interrupted: training stopped at epoch {completed} of {epochs}; {kept}.")


def notes_for(category: type[Warning], ui: UI, shown: Any) -> Any:
    """A ``warnings.showwarning`` that says warnings of ``category`` as one-line notes, when they
    are raised (before training starts, for a precision measured slower), and passes the others
    to ``shown``."""

    def show(message: Any, kind: type[Warning], filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
        if issubclass(kind, category):
            ui.note(str(message))
        else:
            shown(message, kind, filename, lineno, file, line)

    return show


def wait_for_cluster(startup_timeout: float | None, ui: UI) -> None:
    """For ``--strategy multi-worker``: name the peers waited for; fail (exit 1) if they do not answer in time."""
    cluster = read_cluster(os.environ.get("TF_CONFIG"))
    if cluster is None or not cluster.peers:
        return  # no TF_CONFIG (the library says what is missing), or a cluster of one
    timeout = DEFAULT_STARTUP_TIMEOUT if startup_timeout is None else startup_timeout
    ui.note(f"Waiting for the other workers of TF_CONFIG: {', '.join(cluster.peers)} "
            f"(giving up after {timeout:g} s; see --startup-timeout).")
    try:
        wait_for_peers(cluster, timeout)
    except PeersUnreachable as error:
        raise click.ClickException(terminal_safe(str(error))) from None


def cli_trainer_name(model: SequenceModel) -> str:
    """The ``--trainer`` name of the trainer a model was trained with (stateless if unknown)."""
    from seqkit.trainers import TRAINERS

    names = {trainer.__name__: name for name, trainer in TRAINERS.items()}
    return names.get(str(model.spec.get("trainer")), "stateless")


def continued_settings(
    model: SequenceModel, settings: dict[str, Any], trainer_class: type[Trainer], init_path: Path | None,
    level: str | None,
) -> dict[str, Any]:
    """The settings with ``--init-from``: options that contradict the model refused, the window of a
    window model taken from it when not given."""
    from seqkit.trainers.continuation import inherited

    fixed = inherited(model)
    for name, value in settings.items():
        if name in fixed and value != fixed[name]:
            option = "--" + name.replace("_", "-")
            raise click.UsageError(
                f"{option} {value} contradicts the model in {terminal_safe(str(init_path))} ({name} {fixed[name]}): "
                f"leave {option} out with --init-from; it is taken from the model."
            )
    if level is not None and level != model_level(model):
        raise click.UsageError(
            f"--level {level} contradicts the model in {terminal_safe(str(init_path))} (trained at the "
            f"{model_level(model)} level): leave --level out with --init-from."
        )
    if trainer_class.why_not("encoding") is None and "window" not in settings:  # a window trainer
        settings = {**settings, "window": model.window_length}
    return settings


def check_trainable(corpus: Corpus) -> None:
    """Refuse (exit 1) a corpus with no document of two tokens: nothing to learn a next token from.

    A longer window needs more (the trainer says how many); two is what any training needs.
    """
    longest = max(map(len, corpus.sequences), default=0)
    if longest >= 2:
        return
    name = terminal_safe(corpus.name)
    if len(corpus.sequences) <= 1:
        raise click.ClickException(
            f"The corpus '{name}' holds {longest} token{'' if longest == 1 else 's'}: training needs at least 2, "
            "a token and the one that follows it. Give a longer text."
        )
    raise click.ClickException(
        f"No document of the corpus '{name}' holds more than 1 token: training needs at least 2 in a document, "
        "a token and the one that follows it. Give longer documents."
    )


def check_network_size(trainer_name: str, given: dict[str, Any], vocabulary_size: int, max_parameters: int) -> None:
    """Refuse (exit 2) a network of more than ``max_parameters``, before anything is built.

    The network is sized from the options given, the trainer's defaults for the others
    (:data:`~cli.options.NETWORK_DEFAULTS`) and the vocabulary, without importing TensorFlow
    (:func:`~cli.options.network_parameters`); training memory is counted as
    :data:`~cli.options.TRAINING_BYTES_PER_PARAMETER` bytes a parameter.
    """
    options = {**NETWORK_DEFAULTS[trainer_name], **{name: value for name, value in given.items() if value is not None}}
    if trainer_name == "stream":  # one token a step through an embedding; its window is the segment length
        options.update(layout="timesteps", encoding="embedding", window=1)
    parameters = network_parameters(
        options["layout"], options["encoding"], window_length=options["window"], vocabulary_size=vocabulary_size,
        units=options["units"], layers=options["layers"], cell=options["cell"], embedding_dim=options["embedding_dim"],
    )
    if parameters > max_parameters:
        network = f"{options['layers']} x {str(options['cell']).upper()} {options['units']}"
        raise click.UsageError(
            f"The network ({network} over {vocabulary_size} tokens) would hold {parameters:,} parameters and need "
            f"{data_size(parameters * TRAINING_BYTES_PER_PARAMETER)} to train (float32 weights, gradients and "
            f"Adam's two slots), more than the bound of {max_parameters:,} parameters "
            f"({data_size(max_parameters * TRAINING_BYTES_PER_PARAMETER)}). Use fewer --units or --layers, or "
            "raise the bound with --max-parameters N."
        )
