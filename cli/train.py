"""``seqkit train``: fit an LSTM on a corpus and save it as a bundle."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .cluster import DEFAULT_STARTUP_TIMEOUT, PeersUnreachable, read_cluster, wait_for_peers
from .errors import Interrupted, SeqkitCommand, checked, interrupt_exit_code
from .options import (
    ENCODING_NAMES,
    LAYOUT_NAMES,
    MAX_UNITS,
    POSITIVE,
    SEED,
    STRATEGY_NAMES,
    TRAINER_NAMES,
    DataSource,
    FiniteFloatRange,
    PathType,
    ResetPolicyType,
    data_options,
    figure_options,
    require_plotting,
    output_options,
)
from .paths import Output, check_outputs
from .render import UI, duration, key_value_table, percent, terminal_safe

if TYPE_CHECKING:
    import keras

    from seqkit.sequence_model import SequenceModel
    from seqkit.trainers import History, Trainer


@click.command(cls=SeqkitCommand, short_help="Train a model on a corpus and save it as a bundle.")
@data_options
@click.option("--trainer", "trainer_name", type=click.Choice(TRAINER_NAMES), default="stateless", show_default=True,
              help="stateless: independent windows; in-batch: the whole dataset as one batch; "
                   "stateful: state carried from batch to batch.")
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
@click.option("--precision", type=click.Choice(("float32", "mixed_float16", "mixed_bfloat16")), default=None,
              help="float32, or mixed precision (float32 weights and loss; mixed_float16 needs a GPU). "
                   "[default: float32]")
@click.option("--validation-split", type=FiniteFloatRange(0, 1, min_open=True, max_open=True), default=None,
              metavar="FRACTION", help="Hold out this fraction of the end of every document and score it after "
                                       "every epoch (val loss, bits per token), e.g. 0.1.")
@click.option("--validation-text", "validation_path", type=PathType(exists=True, dir_okay=False, path_type=Path),
              default=None, metavar="FILE", help="Score this text (split like --text) after every epoch instead.")
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
    reset: str | None,
    seed: int | None,
    jit: str,
    kernel: str,
    precision: str | None,
    validation_split: float | None,
    validation_path: Path | None,
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
    plot_path: Path | None,
    tensorboard_dir: Path | None,
    ui: UI,
) -> None:
    """Train an LSTM to predict the next token, and save it with --out.

    The data is the alphabet unless --text FILE (or '-' for standard input) or
    --tokens "..." is given. Several --text files, a folder (--text DIR: every
    file in it) or --lines (each line) give several documents: windows never
    cross from one to the next, and --reset boundary zeroes a stateful model's
    state between them. The table at the end shows the training accuracy and
    the accuracy over the training windows, token by token.

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
    """
    if reset is not None and trainer_name == "stream" and reset not in ("epoch", "boundary"):
        raise click.UsageError(f"--trainer stream resets at 'epoch' or 'boundary' only; got --reset {reset}.")
    if checkpoint_dir is None and (resume or checkpoint_every is not None or checkpoint_steps is not None):
        given = "--resume" if resume else "--checkpoint-every" if checkpoint_every is not None else "--checkpoint-steps"
        raise click.UsageError(f"{given} needs --checkpoint DIR: the folder the training state is saved in.")
    if validation_split is not None and validation_path is not None:
        raise click.UsageError("Give one of --validation-split and --validation-text, not both.")
    if early_stopping is not None and validation_split is None and validation_path is None:
        raise click.UsageError("--early-stopping watches the held-out loss: give --validation-split F or "
                               "--validation-text FILE too.")
    if startup_timeout is not None and strategy != "multi-worker":
        raise click.UsageError("--startup-timeout applies to --strategy multi-worker only.")
    data.check()
    from seqkit.trainers import TRAINERS

    # Only the options given are passed: the trainer keeps its own defaults for the others.
    settings = {
        name: value
        for name, value in dict(
            window=window, stride=stride, layout=layout, encoding=encoding, units=units, layers=layers,
            dropout=dropout, epochs=epochs, learning_rate=learning_rate, batch_size=batch_size, reset=reset,
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
    outputs = [
        Output(option, path, folder)
        for option, path, folder in (("--out", out_path, False), ("--plot", plot_path, False),
                                     ("--checkpoint", checkpoint_dir, True), ("--tensorboard", tensorboard_dir, True))
        if path is not None
    ]
    targets = check_outputs(outputs, [*data.inputs(), *([validation_path] if validation_path is not None else [])])
    require_plotting(plot_path)
    corpus = data.load()
    from seqkit.callbacks import EpochEnd, StopAtAccuracy

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
    validation: Any = validation_split
    if validation_path is not None:
        from seqkit.datasets import load_text

        validation = load_text(validation_path, level=corpus.level)
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
    with ui.progress() as progress:
        callbacks.append(EpochEnd(checked(progress.track(f"{trainer_name} on {corpus.name}", epochs))))
        try:
            model, history = trainer.fit(corpus, validation=validation, callbacks=callbacks, resume=resume)
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
    scored = corpus if validation_split is None else trainer.split(corpus, validation_split, model.vocabulary)[0]
    windows = trainer.evaluation_windows(scored, model.vocabulary)
    if len(windows) < len(trainer.training_windows(scored, model.vocabulary)):
        ui.note(f"Accuracy on the windows: the first {len(windows)} tokens, read in order.")
    evaluation = model.evaluate(windows)
    if out_path is not None:
        model.save(targets["--out"])
    if plot_path is not None:
        from seqkit.plot import plot_history

        plot_history({f"{trainer_name} on {corpus.name}": history}, targets["--plot"],
                     title=f"seqkit train: {trainer_name}, {epochs} epochs")
        ui.note(f"Training curves drawn to {plot_path}.")
    if tensorboard_dir is not None:
        ui.note(f"TensorBoard logs in {tensorboard_dir}: tensorboard --logdir {tensorboard_dir}")
    report = summary(model, history, trainer, evaluation.accuracy, out_path, restored=early_stopping is not None)
    ui.result(key_value_table("Trained", summary_rows(report)))
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


def summary(
    model: SequenceModel, history: History, trainer: Trainer, evaluation_accuracy: float, out_path: Path | None,
    *, restored: bool = False,
) -> dict[str, Any]:
    """What training produced, JSON-ready (accuracies as fractions).

    The held-out figures are the last epoch's, or with ``restored`` (early stopping put the
    best weights back) the best epoch's: those of the model saved.
    """
    spec = model.spec
    scored = [(value, epoch) for epoch, value in enumerate(history.val_loss) if math.isfinite(value)]
    best = min(scored)[1] if scored else None
    shown = best if restored else (len(history.val_loss) - 1 if history.val_loss else None)
    return {
        "trainer": spec.get("trainer"),
        "hyperparameters": spec.get("hyperparameters"),
        "layout": model.layout.get_config(),
        "corpus": spec.get("corpus"),
        "vocabulary_size": model.vocabulary.size,
        "window_length": model.window_length,
        "samples": spec.get("samples"),
        "epochs": history.epochs,
        "steps": history.steps,
        "loss": history.loss[-1] if history.loss else None,
        "accuracy": history.accuracy[-1] if history.accuracy else None,
        "evaluation_accuracy": evaluation_accuracy,
        "val_loss": history.val_loss[shown] if shown is not None else None,
        "val_accuracy": history.val_accuracy[shown] if shown is not None else None,
        "val_bits_per_token": history.val_bits_per_token[shown] if shown is not None else None,
        "best_epoch": best + 1 if best is not None else None,
        "restored_best_weights": restored and best is not None,
        "seconds": round(history.seconds, 3),
        "bundle": None if out_path is None else str(out_path),
    }


def summary_rows(report: dict[str, Any]) -> list[tuple[str, Any]]:
    params = report["hyperparameters"] or {}
    corpus = report["corpus"] or {}
    rows: list[tuple[str, Any]] = [
        ("trainer", report["trainer"]),
        ("data", f"{corpus.get('name')}: {corpus.get('tokens')} tokens ({corpus.get('level')}), "
                 f"{report['vocabulary_size']} distinct"),
        ("layout", f"{report['layout']['layout']}, {report['layout']['encoding']}"),
        ("window", f"{report['window_length']} tokens, {report['samples']} samples"),
        ("network", f"{params.get('layers')} x LSTM {params.get('units')}"),
    ]
    if "reset" in params:
        rows.append(("reset", params["reset"]))
    rows += [
        ("epochs", f"{report['epochs']} ({report['steps']} steps)"),
        ("loss", f"{report['loss']:.4f}" if report["loss"] is not None else "-"),
        ("training accuracy", percent(report["accuracy"])),
        ("accuracy on the training windows" if report.get("val_loss") is not None else "accuracy on the windows",
         percent(report["evaluation_accuracy"])),
    ]
    if report.get("val_loss") is not None:
        rows += [
            ("held-out loss", f"{report['val_loss']:.4f} ({report['val_bits_per_token']:.3f} bits per token)"
                              + (" at the best epoch" if report["restored_best_weights"] else "")),
            ("held-out accuracy", percent(report["val_accuracy"])),
            ("best held-out epoch", f"{report['best_epoch']}"
                                    + (" (its weights were kept)" if report["restored_best_weights"] else "")),
        ]
    rows += [
        ("time", duration(report["seconds"])),
        ("saved to", report["bundle"] or "-"),
    ]
    return rows
