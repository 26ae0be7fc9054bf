"""``seqkit train``: fit an LSTM on a corpus and save it as a bundle."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .errors import Interrupted, SeqkitCommand
from .options import (
    ENCODING_NAMES,
    LAYOUT_NAMES,
    NON_NEGATIVE,
    POSITIVE,
    STRATEGY_NAMES,
    TRAINER_NAMES,
    ResetPolicyType,
    data_options,
    figure_options,
    load_corpus,
    output_options,
)
from .render import UI, duration, key_value_table, percent

STREAM_EVALUATION_TOKENS = 2000
"""How many tokens `seqkit train --trainer stream` scores after training (one by one)."""

if TYPE_CHECKING:
    import keras

    from seqkit.sequence_model import SequenceModel
    from seqkit.trainers import History, Trainer


@click.command(cls=SeqkitCommand, short_help="Train a model on a corpus and save it as a bundle.")
@data_options
@click.option("--trainer", "trainer_name", type=click.Choice(TRAINER_NAMES), default="stateless", show_default=True,
              help="stateless: independent windows; in-batch: the whole dataset as one batch; "
                   "stateful: state carried from batch to batch.")
@click.option("--window", type=POSITIVE, default=1, show_default=True, help="Tokens per input window.")
@click.option("--stride", type=POSITIVE, default=None,
              help="Tokens between window starts. [default: 1; the window length for stateful]")
@click.option("--layout", type=click.Choice(LAYOUT_NAMES), default="timesteps", show_default=True,
              help="A window as L time steps, or as one step of L features.")
@click.option("--encoding", type=click.Choice(ENCODING_NAMES), default="scaled", show_default=True,
              help="Token ids scaled to [0, 1) (the tutorial's), one-hot vectors, or a learned embedding.")
@click.option("--units", type=POSITIVE, default=32, show_default=True, help="LSTM units per layer.")
@click.option("--layers", type=POSITIVE, default=1, show_default=True, help="Stacked LSTM layers.")
@click.option("--dropout", type=click.FloatRange(0, 1, max_open=True), default=0.0, show_default=True,
              help="Dropout after each LSTM layer.")
@click.option("--epochs", type=POSITIVE, default=500, show_default=True, help="Passes over the data.")
@click.option("--batch-size", type=POSITIVE, default=None,
              help="Samples per step (stateful: parallel streams). [default: 1]")
@click.option("--learning-rate", type=click.FloatRange(0, min_open=True), default=0.001, show_default=True,
              help="Adam's learning rate.")
@click.option("--reset", type=ResetPolicyType(), default=None, metavar="epoch|boundary|every:K|never",
              help="Stateful only: when to zero the state. [default: epoch]")
@click.option("--seed", type=NON_NEGATIVE, default=7, show_default=True,
              help="Seeds weights and shuffling; the same seed gives the same model on CPU.")
@click.option("--until-accuracy", type=click.FloatRange(0, 1, min_open=True), default=None, metavar="FRACTION",
              help="Stop as soon as training accuracy reaches this fraction, e.g. 0.95.")
@click.option("--strategy", type=click.Choice(STRATEGY_NAMES), default="default", show_default=True,
              help="tf.distribute strategy (not for --trainer stateful). mirrored: every local GPU (or "
                   "logical CPU device); multi-worker: the cluster in TF_CONFIG.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="BUNDLE",
              help="Save the model to this bundle file (e.g. model.seqkit), replacing it atomically.")
@click.option("--checkpoint", "checkpoint_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              metavar="DIR", help="Save the training state to this folder after every epoch (see --resume).")
@click.option("--checkpoint-every", type=POSITIVE, default=1, show_default=True, metavar="K",
              help="With --checkpoint: save every K epochs (and after the last).")
@click.option("--resume", is_flag=True,
              help="Continue the run saved in --checkpoint DIR (same settings and data; --epochs may grow).")
@figure_options
@output_options
def train(
    *,
    use_alphabet: bool,
    text_path: str | None,
    tokens: str | None,
    level: str | None,
    trainer_name: str,
    window: int,
    stride: int | None,
    layout: str,
    encoding: str,
    units: int,
    layers: int,
    dropout: float,
    epochs: int,
    batch_size: int | None,
    learning_rate: float,
    reset: str | None,
    seed: int,
    until_accuracy: float | None,
    strategy: str,
    out_path: Path | None,
    checkpoint_dir: Path | None,
    checkpoint_every: int,
    resume: bool,
    plot_path: Path | None,
    tensorboard_dir: Path | None,
    ui: UI,
) -> None:
    """Train an LSTM to predict the next token, and save it with --out.

    The data is the alphabet unless --text FILE (or '-' for standard input) or
    --tokens "..." is given. The table at the end shows the training accuracy
    and the accuracy over the training windows, token by token.

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
    """
    if reset is not None and trainer_name == "stream" and reset not in ("epoch", "boundary"):
        raise click.UsageError(f"--trainer stream resets at 'epoch' or 'boundary' only; got --reset {reset}.")
    if reset is not None and trainer_name not in ("stateful", "stream"):
        raise click.UsageError(f"--reset applies to --trainer stateful only; got --trainer {trainer_name}.")
    if checkpoint_dir is not None and trainer_name == "stream":
        raise click.UsageError("--checkpoint does not apply to --trainer stream yet: stream training writes no checkpoints.")
    if strategy != "default" and trainer_name == "stateful":
        raise click.UsageError("--strategy does not apply to --trainer stateful (one state for all replicas); "
                               "use --trainer stream, which gives each replica its own streams.")
    if batch_size is not None and trainer_name == "in-batch":
        raise click.UsageError("--batch-size does not apply to --trainer in-batch: it trains on the whole dataset as one batch.")
    if checkpoint_dir is None and (resume or checkpoint_every != 1):
        given = "--resume" if resume else "--checkpoint-every"
        raise click.UsageError(f"{given} needs --checkpoint DIR: the folder the training state is saved in.")
    corpus = load_corpus(use_alphabet=use_alphabet, text_path=text_path, tokens=tokens, level=level)
    from seqkit.callbacks import EpochEnd, StopAtAccuracy
    from seqkit.trainers import TRAINERS

    # Options left at their defaults are not passed: each trainer keeps its own defaults
    # (in-batch: LSTM 16 for 5000 epochs, the tutorial's; stream: segments of 64 steps,
    # 32 streams, an embedding). The defaults shown in --help are the stateless trainer's.
    context = click.get_current_context()
    given = {
        name: value
        for name, value in dict(
            window=window, stride=stride, layout=layout, encoding=encoding, units=units, layers=layers,
            dropout=dropout, epochs=epochs, learning_rate=learning_rate, batch_size=batch_size, reset=reset,
        ).items()
        if value is not None and context.get_parameter_source(name) != click.core.ParameterSource.DEFAULT
    }
    settings: dict[str, Any] = dict(seed=seed, **given)
    if strategy != "default":
        settings["strategy"] = strategy
    if checkpoint_dir is not None:
        settings.update(checkpoint_dir=checkpoint_dir, checkpoint_every=checkpoint_every)
    trainer = TRAINERS[trainer_name](**settings)
    epochs = int(trainer.epochs)
    callbacks: list[keras.callbacks.Callback] = []
    if until_accuracy is not None:
        callbacks.append(StopAtAccuracy(until_accuracy))
    if tensorboard_dir is not None:
        from seqkit.callbacks import TensorBoardLog

        callbacks.append(TensorBoardLog(tensorboard_dir))
    ui.note(f"Training {trainer_name} on {corpus.name} ({len(corpus)} tokens) for {epochs} epochs...")
    with ui.progress() as progress:
        callbacks.append(EpochEnd(progress.track(f"{trainer_name} on {corpus.name}", epochs)))
        try:
            model, history = trainer.fit(corpus, callbacks=callbacks, resume=resume)
        except KeyboardInterrupt:
            kept = f"'{out_path}' was not changed" if out_path is not None else "nothing was saved"
            if checkpoint_dir is not None:
                kept += f"; continue with --checkpoint {checkpoint_dir} --resume"
            raise Interrupted(
                f"Interrupted: training stopped at epoch {progress.completed} of {epochs}; {kept}."
            ) from None
        progress.finish()
    windows = trainer.training_windows(corpus, model.vocabulary)
    if trainer_name == "stream":  # read token by token through the batch-1 twin: a prefix is enough
        windows = windows.take(slice(0, STREAM_EVALUATION_TOKENS))
        ui.note(f"Accuracy on the windows: the first {len(windows)} tokens, read in order.")
    evaluation = model.evaluate(windows)
    if out_path is not None:
        from seqkit.bundle import save_bundle

        save_bundle(model, out_path)
    if plot_path is not None:
        from seqkit.plot import plot_history

        plot_history({f"{trainer_name} on {corpus.name}": history}, plot_path,
                     title=f"seqkit train: {trainer_name}, {epochs} epochs")
        ui.note(f"Training curves drawn to {plot_path}.")
    if tensorboard_dir is not None:
        ui.note(f"TensorBoard logs in {tensorboard_dir}: tensorboard --logdir {tensorboard_dir}")
    report = summary(model, history, trainer, evaluation.accuracy, out_path)
    ui.result(key_value_table("Trained", summary_rows(report)))
    if out_path is None:
        ui.note("Not saved: pass --out FILE.seqkit to keep the model.")
    ui.emit_json(report)


def summary(
    model: SequenceModel, history: History, trainer: Trainer, evaluation_accuracy: float, out_path: Path | None
) -> dict[str, Any]:
    """What training produced, JSON-ready (accuracies as fractions)."""
    spec = model.spec
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
        ("accuracy on the windows", percent(report["evaluation_accuracy"])),
        ("time", duration(report["seconds"])),
        ("saved to", report["bundle"] or "-"),
    ]
    return rows
