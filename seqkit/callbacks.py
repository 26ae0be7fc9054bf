"""Training callbacks: side effects of training live here, not in the trainers.

seqkit's trainers drive callbacks as Keras's ``model.fit`` does (see
:mod:`seqkit.engine.epochs`): ``callback.model`` is the network with its optimizer
attached, the params hold ``epochs`` and ``steps``, and each epoch gets
``on_epoch_begin``, one ``on_train_batch_begin``/``on_train_batch_end`` pair (as under
``steps_per_execution``) and ``on_epoch_end(epoch, logs)``. So Keras's own callbacks
work — ``EarlyStopping``, ``ReduceLROnPlateau``, ``LearningRateScheduler``,
``TensorBoard`` (histograms too), ``CSVLogger``, ``TerminateOnNaN``,
``ModelCheckpoint``, ``ProgbarLogger`` (``fit(verbose=1)``) — beside seqkit's own:

- :class:`StopAtAccuracy` — stop as soon as training accuracy reaches a target.
- :class:`EpochEnd` — call a function with ``(epoch, logs)`` after every epoch
  (progress bars, logging).
- :class:`TensorBoardLog` — write loss and accuracy per epoch for TensorBoard.
- :class:`SampleText` — generate a line every few epochs, printed and logged as text.

>>> from seqkit.trainers import StatelessTrainer
>>> from seqkit import alphabet
>>> seen = []
>>> _, history = StatelessTrainer(window=3, epochs=5, units=8).fit(
...     alphabet(), callbacks=[EpochEnd(lambda epoch, logs: seen.append(epoch))])
>>> seen
[0, 1, 2, 3, 4]
"""

from __future__ import annotations

from seqkit._quiet import quiet_import

quiet_import()

import sys
from collections.abc import Callable
from typing import Any

import keras

from seqkit.checks import check_int
from seqkit.errors import parameter_error
from seqkit.sampling import Decoding


class StopAtAccuracy(keras.callbacks.Callback):
    """Stop training once the epoch's training accuracy reaches ``target``.

    Args:
        target: accuracy in ``(0, 1]`` at which to stop.
        patience: consecutive epochs at or above target before stopping. Defaults to 1.
    """

    def __init__(self, target: float, patience: int = 1) -> None:
        super().__init__()
        if isinstance(target, bool) or not isinstance(target, int | float) or not 0 < target <= 1:
            raise parameter_error("StopAtAccuracy", "target", "a float in (0, 1]", target)
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise parameter_error("StopAtAccuracy", "patience", "an int >= 1", patience)
        self.target = float(target)
        self.patience = patience
        self.stopped_epoch: int | None = None
        self._streak = 0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.stopped_epoch = None
        self._streak = 0

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        accuracy = (logs or {}).get("accuracy", 0.0)
        self._streak = self._streak + 1 if accuracy >= self.target else 0
        if self._streak >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True


class EpochEnd(keras.callbacks.Callback):
    """Call ``function(epoch, logs)`` at the end of every epoch.

    Args:
        function: receives the 0-based epoch and ``{"loss": ..., "accuracy": ...}``.
    """

    observes_only = True
    """It only watches: the trainer may run several epochs per compiled call and
    replay their logs in order afterwards."""

    def __init__(self, function: Callable[[int, dict[str, float]], None]) -> None:
        super().__init__()
        self.function = function

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.function(epoch, dict(logs or {}))


def _plugin_metadata(plugin: str) -> Any:
    """TensorBoard's summary metadata for a plugin (``scalars``, ``text``), without the tensorboard package."""
    from tensorflow.core.framework import summary_pb2

    metadata = summary_pb2.SummaryMetadata()
    metadata.plugin_data.plugin_name = plugin
    return metadata


class SampleText(keras.callbacks.Callback):
    """Every ``every`` epochs, generate a line with the model as trained so far.

    As the keras-io character-LSTM example does: the trainer hands this callback a way to
    take a :class:`~seqkit.sequence_model.SequenceModel` of the network's current weights
    (:meth:`bind`, called by ``Trainer.fit``), and the callback generates ``steps`` tokens
    after ``prime`` (a stateful model from a zero state) and passes the text to
    ``function(epoch, text)``; with ``log_dir`` it also writes the text to TensorBoard
    (the ``samples`` tag under ``log_dir/train``). The text is the tokens joined by
    ``separator``.

    Args:
        every: generate after every ``every``-th epoch (and the last); an int >= 1.
        prime: the tokens to start from.
        steps: tokens to generate. Defaults to 80.
        num_samples, temperature, top_k, top_p, repetition_penalty, beam, stop, keep_stop, seed:
            as :meth:`SequenceModel.sample <seqkit.sequence_model.SequenceModel.sample>` (the same
            path as ``generate`` and ``seqkit generate``). Defaults to one greedy sample.
        function: receives ``(epoch, text)``, once per sample. Defaults to None: nothing but the log.
        log_dir: a TensorBoard folder. Defaults to None.
        separator: joins the tokens. Defaults to ``""`` (characters); use ``" "`` for words. A
            subword vocabulary's pieces are joined by its own ``join``.

    >>> from seqkit import alphabet
    >>> from seqkit.trainers import StatefulTrainer
    >>> lines = []
    >>> _ = StatefulTrainer(units=8, epochs=4).fit(alphabet(), callbacks=[
    ...     SampleText(2, "A", steps=5, function=lambda epoch, text: lines.append(epoch))])
    >>> lines
    [1, 3]
    """

    def __init__(
        self,
        every: int,
        prime: Any,
        steps: int = 80,
        *,
        num_samples: int = 1,
        temperature: float | None = None,
        top_k: int | None = None,
        top_p: float | None = None,
        repetition_penalty: float | None = None,
        beam: int | None = None,
        stop: Any = None,
        keep_stop: bool = False,
        seed: int | None = None,
        function: Callable[[int, str], None] | None = None,
        log_dir: Any = None,
        separator: str = "",
    ) -> None:
        super().__init__()
        self.every = check_int("SampleText", "every", every)
        self.steps = check_int("SampleText", "steps", steps)
        self.prime = prime
        # Checked here as far as they can be without the model, then against its vocabulary in
        # bind, before training, by the one sampling path.
        check_int("SampleText", "num_samples", num_samples)
        Decoding.checked(
            "SampleText", sys.maxsize, temperature=temperature, top_k=top_k, top_p=top_p,
            repetition_penalty=repetition_penalty, beam=beam, keep_stop=keep_stop,
        )
        self.options = {
            "num_samples": num_samples, "temperature": temperature, "top_k": top_k, "top_p": top_p,
            "repetition_penalty": repetition_penalty, "beam": beam, "stop": stop, "keep_stop": keep_stop,
            "seed": seed,
        }
        self.function = function
        self.log_dir = log_dir
        self.separator = separator
        self.samples: list[tuple[int, str]] = []
        self._snapshot: Callable[[], Any] | None = None
        self._last_epoch = -1

    def bind(self, snapshot: Callable[[], Any]) -> None:
        """Called by the trainer before training: ``snapshot()`` returns a SequenceModel of the
        current weights. One token is generated at once, so that a prime the model cannot read
        or a model that cannot generate is refused before training, not epochs into it."""
        self._snapshot = snapshot
        model = snapshot()
        model.reset()
        model.sample(self.prime, 1, **self.options, owner="SampleText")

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.samples = []
        self._last_epoch = self.params.get("epochs", 0) - 1 if self.params else -1

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._snapshot is None or ((epoch + 1) % self.every and epoch != self._last_epoch):
            return
        model = self._snapshot()
        model.reset()
        join = getattr(model.vocabulary, "join", None)  # a subword vocabulary joins its pieces back into text
        texts = [
            join(sample.tokens) if callable(join) else self.separator.join(sample.tokens)
            for sample in model.sample(self.prime, self.steps, **self.options, owner="SampleText")
        ]
        for text in texts:
            self.samples.append((epoch, text))
            if self.function is not None:
                self.function(epoch, text)
        text = "\n\n".join(texts)
        if self.log_dir is not None:
            import os

            import tensorflow as tf

            writer = tf.summary.create_file_writer(os.path.join(os.fspath(self.log_dir), "train"))
            with writer.as_default():
                tf.summary.write("samples", tf.constant(text), step=epoch, metadata=_plugin_metadata("text"))
            writer.close()


class TensorBoardLog(keras.callbacks.Callback):
    """Write each epoch's loss and accuracy as TensorBoard scalars.

    The ecosystem's convention, with no dependency beyond TensorFlow: the
    scalars are named ``epoch_loss`` and ``epoch_accuracy`` and written under
    ``log_dir/train``, as ``keras.callbacks.TensorBoard`` names them, so
    ``tensorboard --logdir DIR`` shows seqkit runs beside Keras ones. Unlike
    ``keras.callbacks.TensorBoard`` it needs no ``tensorboard`` package and only
    watches, so it lets several epochs share one compiled call.

    Args:
        log_dir: the folder to write event files to (created if missing).

    >>> import tempfile, pathlib
    >>> from seqkit.trainers import StatelessTrainer
    >>> from seqkit import alphabet
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = StatelessTrainer(window=3, epochs=2, units=8).fit(alphabet(), callbacks=[TensorBoardLog(folder)])
    >>> len(list((folder / "train").glob("events.out.tfevents.*")))
    1
    """

    observes_only = True
    """It only writes what it sees: several epochs may share one compiled call."""

    def __init__(self, log_dir: Any) -> None:
        super().__init__()
        self.log_dir = log_dir
        self._writer: Any = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        import os

        import tensorflow as tf

        self._writer = tf.summary.create_file_writer(os.path.join(os.fspath(self.log_dir), "train"))

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        import tensorflow as tf

        if self._writer is None:
            self.on_train_begin()
        with self._writer.as_default():
            for name, value in (logs or {}).items():
                # tf.summary.scalar needs the tensorboard package; a raw write with the
                # scalars plugin's metadata is the same record without it.
                tf.summary.write(
                    f"epoch_{name}", tf.constant(float(value)), step=epoch, metadata=_plugin_metadata("scalars")
                )
        self._writer.flush()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
