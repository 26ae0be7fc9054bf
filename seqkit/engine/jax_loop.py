"""Stream training on Keras's JAX backend: one ``jax.jit`` program per epoch, the state carried explicitly.

The same stream network as on TensorFlow (:func:`seqkit.models.build_stream_model`: ids
and each layer's state in, logits and the new states out) and the same Adam (Keras's,
with its learning-rate schedule and ``global_clipnorm``), run the JAX way: the network's
:meth:`~keras.Model.stateless_call` inside :func:`jax.value_and_grad`, the optimizer's
:meth:`~keras.optimizers.Optimizer.stateless_apply`, and the steps of an epoch in one
:func:`jax.lax.scan` that gathers each step's segments from the token table on the
device. The LSTM state is a value the scan carries from step to step, zeroed for the rows
the epoch's reset table names: it never lives in a layer variable, so Keras 3's JAX
backend, which loses a ``stateful=True`` layer's state between jitted calls, cannot lose it.

On a GPU, Keras's JAX LSTM runs cuDNN's kernel inside ``jit`` (``jax.experimental.rnn``)
wherever the layer allows it (``use_cudnn="auto"``, no mask); on a CPU, Keras's scan.

:class:`JaxStreamLoop` has the interface of :class:`~seqkit.engine.loops.StreamLoop` that
:class:`~seqkit.trainers.StreamTrainer` uses (``train``, ``evaluate``, ``held_out``,
``schedule``, ``policy``), so the trainer's stages are the same on both backends.

>>> jax_policy(units=8, batch_size=4, device="cpu").reason
'JAX backend on a CPU: each epoch one jax.jit program (a scan over its steps)'
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from seqkit.engine.epochs import EpochLogs, logs_of, run_epochs
from seqkit.engine.plans import StreamSegments
from seqkit.engine.policy import DevicePolicy
from seqkit.errors import ConfigurationError
from seqkit.schedules import LearningRate, make_optimizer

__all__ = ["JaxStreamLoop", "JaxStreams", "jax_policy"]


def jax_policy(
    *, units: int, batch_size: int, device: str | None = None, precision: str = "float32", owner: str = "StreamTrainer"
) -> DevicePolicy:
    """The device policy on Keras's JAX backend: ``jit`` always; cuDNN's LSTM inside it on a GPU.

    Args:
        units: LSTM units per layer (recorded in the reason only).
        batch_size: streams per step (likewise).
        device: ``"cpu"`` or ``"gpu"``. Defaults to None: JAX's default backend.
        precision: only ``"float32"`` on JAX (``"auto"`` is float32 there).
        owner: who asks, for error messages.

    Raises:
        ConfigurationError: a precision other than float32.
    """
    precision = "float32" if precision == "auto" else precision
    if precision != "float32":
        raise ConfigurationError(
            f"{owner} trains in float32 on Keras's JAX backend; got precision={precision!r}. "
            "Use precision='float32', or the TensorFlow backend for mixed precision."
        )
    if device is None:
        from seqkit.backends import jax_device

        device = jax_device()
    if device == "gpu":
        return DevicePolicy(  # JAX's default float32 dots, and cuDNN's LSTM under it, take TF32 on a GPU
            "gpu", True, "auto", precision,
            f"JAX backend on a GPU: each epoch one jax.jit program, cuDNN's LSTM inside it "
            f"(batch x units = {batch_size * units}); float32 matmuls in TF32",
            backend="jax", tf32=True,
        )
    return DevicePolicy(
        "cpu", True, False, precision, "JAX backend on a CPU: each epoch one jax.jit program (a scan over its steps)",
        backend="jax",
    )


@dataclass(frozen=True)
class JaxStreams:
    """An epoch's material on the device: the ids, where each step's segments start, which rows reset.

    Attributes:
        table: int32 ``(N,)``: the corpus's ids.
        starts: int32 ``(steps, B)``: where row ``r`` of step ``t`` starts in ``table``.
        resets: bool ``(steps, B)``: zero the row's state before the step.
        segment_length: ``T``.
    """

    table: Any
    starts: Any
    resets: Any
    segment_length: int

    @property
    def steps(self) -> int:
        """Optimizer steps per epoch."""
        return int(self.starts.shape[0])


def _cross_entropy(logits: Any, targets: Any) -> tuple[Any, Any]:
    """Per-token cross-entropy (nats) from logits, and whether the arg-max is the target."""
    import jax
    import jax.numpy as jnp

    logits = logits.astype(jnp.float32)
    chosen = jnp.take_along_axis(logits, targets[..., None], axis=-1)[..., 0]
    loss = jax.nn.logsumexp(logits, axis=-1) - chosen
    return loss, (jnp.argmax(logits, axis=-1) == targets).astype(jnp.float32)


class JaxStreamLoop:
    """Train and evaluate a stream network on Keras's JAX backend (see the module doc).

    Args:
        network: the stream network (:func:`~seqkit.models.build_stream_model`), built.
        streams: ``B``, the rows of every step.
        policy: the device policy (:func:`jax_policy`).
        learning_rate: Adam's learning rate, or a schedule. Defaults to 0.001.
        clip_norm: clip the gradients to this global norm. Defaults to None.
    """

    def __init__(
        self,
        network: keras.Model,
        *,
        streams: int,
        policy: DevicePolicy,
        learning_rate: LearningRate = 0.001,
        clip_norm: float | None = None,
    ) -> None:
        import jax

        self.model = network
        self.streams = int(streams)
        self.policy = policy
        self.schedule = learning_rate if isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule) else None
        self.optimizer = make_optimizer(network, learning_rate, clip_norm=clip_norm)
        self.state_sizes = [int(tensor.shape[-1]) for tensor in network.inputs[1:]]
        self._epoch = jax.jit(self._epoch_program, static_argnames=("segment_length",), donate_argnums=(0,))
        self._score = jax.jit(self._score_program)

    # The programs ---------------------------------------------------------------------
    def _forward(self, trainable: Any, other: Any, inputs: Any, states: list[Any], training: bool) -> tuple[Any, list[Any], Any]:
        """Logits, the new states and the new non-trainable values (dropout's seeds) of one segment."""
        outputs, other = self.model.stateless_call(trainable, other, [inputs, *states], training=training)
        return outputs[0], list(outputs[1:]), other

    def _epoch_program(self, values: Any, streams: JaxStreams | Any, *, segment_length: int) -> tuple[Any, Any]:
        """Every step of one epoch as a scan: the new values and each step's ``[loss sum, correct, count]``."""
        import jax
        import jax.numpy as jnp

        table, starts, resets = streams
        positions = jnp.arange(segment_length + 1, dtype=jnp.int32)

        def loss_of(trainable: Any, other: Any, inputs: Any, targets: Any, states: list[Any]) -> tuple[Any, Any]:
            logits, new_states, other = self._forward(trainable, other, inputs, states, True)
            losses, correct = _cross_entropy(logits, targets)
            return losses.mean(), (new_states, other, losses.sum(), correct.sum())

        gradients = jax.value_and_grad(loss_of, has_aux=True)

        def step(carry: Any, row: Any) -> tuple[Any, Any]:
            trainable, other, optimizer, states = carry
            start, reset = row
            window = table[start[:, None] + positions[None, :]]
            keep = jnp.logical_not(reset)[:, None].astype(jnp.float32)
            states = [state * keep for state in states]
            (_, (states, other, loss_sum, correct)), grads = gradients(
                trainable, other, window[:, :-1] + 1, window[:, 1:], states
            )
            trainable, optimizer = self.optimizer.stateless_apply(optimizer, grads, trainable)
            states = [jax.lax.stop_gradient(state) for state in states]
            count = jnp.float32(window.shape[0] * segment_length)
            return (trainable, other, optimizer, states), jnp.stack([loss_sum, correct, count])

        values, records = jax.lax.scan(step, values, (starts, resets))
        return values, records

    def _score_program(self, trainable: Any, other: Any, segments: Any) -> Any:
        """Summed ``[loss, correct, count]`` over held-out segments, the state carried and reset as laid out."""
        import jax
        import jax.numpy as jnp

        inputs, targets, weights, resets = segments
        rows = inputs.shape[1]

        def step(states: list[Any], row: Any) -> tuple[list[Any], Any]:
            ids, expected, weight, reset = row
            keep = jnp.logical_not(reset)[:, None].astype(jnp.float32)
            logits, states, _ = self._forward(trainable, other, ids + 1, [state * keep for state in states], False)
            losses, correct = _cross_entropy(logits, expected)
            return states, jnp.stack([(losses * weight).sum(), (correct * weight).sum(), weight.sum()])

        initial = [jnp.zeros((rows, size), jnp.float32) for size in self.state_sizes]
        _, records = jax.lax.scan(step, initial, (inputs, targets, weights, resets))
        return records

    # Values in and out of the network's variables ---------------------------------------------
    def _values(self) -> tuple[list[Any], list[Any], list[Any]]:
        return (
            [variable.value for variable in self.model.trainable_variables],
            [variable.value for variable in self.model.non_trainable_variables],
            [variable.value for variable in self.optimizer.variables],
        )

    def _store(self, values: tuple[list[Any], list[Any], list[Any]]) -> None:
        """Write trained values back into the Keras variables (what callbacks and the fitted model read)."""
        trainable, other, optimizer = values
        for variables, new in ((self.model.trainable_variables, trainable), (self.model.non_trainable_variables, other),
                               (self.optimizer.variables, optimizer)):
            for variable, value in zip(variables, new, strict=True):
                variable.assign(value)

    # The driver's interface ----------------------------------------------------------------
    def feed(self, table: np.ndarray, starts: np.ndarray, resets: np.ndarray, segment_length: int) -> JaxStreams:
        """The epoch's material, moved to the device once."""
        import jax.numpy as jnp

        return JaxStreams(
            jnp.asarray(table, dtype=jnp.int32), jnp.asarray(starts, dtype=jnp.int32),
            jnp.asarray(resets, dtype=bool), int(segment_length),
        )

    def held_out(self, segments: StreamSegments) -> StreamSegments:
        """Held-out segments as what :meth:`train` evaluates after every epoch (as they are)."""
        return segments

    def _epoch_arguments(self, streams: JaxStreams) -> tuple[Any, Any]:
        """The epoch program's arguments: the current values with a zero state, and the material."""
        import jax.numpy as jnp

        states = [jnp.zeros((self.streams, size), jnp.float32) for size in self.state_sizes]
        return (*self._values(), states), (streams.table, streams.starts, streams.resets)

    def epoch_program(self, streams: JaxStreams) -> str:
        """The epoch's program as JAX lowers it for this device (StableHLO text).

        What ran, rather than what was asked for: on a GPU it holds cuDNN's LSTM custom calls
        (``cudnn_rnn``) where Keras took that path, and none where it silently fell back to its scan.
        """
        values, material = self._epoch_arguments(streams)
        return str(self._epoch.lower(values, material, segment_length=streams.segment_length).as_text())

    def run_epoch(self, streams: JaxStreams) -> np.ndarray:
        """One epoch; its ``[loss sum, correct, count]`` summed in float64."""
        values, material = self._epoch_arguments(streams)
        (trainable, other, optimizer, _), records = self._epoch(values, material, segment_length=streams.segment_length)
        self._store((trainable, other, optimizer))
        return np.asarray(records, dtype=np.float64).sum(axis=0)

    def evaluate(self, segments: StreamSegments) -> EpochLogs:
        """Mean cross-entropy and accuracy over every scored token of ``segments``, no training."""
        trainable, other, _ = self._values()
        arrays = (segments.inputs, segments.targets, segments.weights, segments.resets)
        total = np.asarray(self._score(trainable, other, arrays), dtype=np.float64).sum(axis=0)
        return logs_of(total)

    def train(
        self,
        feed: JaxStreams,
        *,
        epochs: int,
        callbacks: Sequence[keras.callbacks.Callback] = (),
        verbose: int = 0,
        validation: StreamSegments | None = None,
        start: Any = None,
        every_steps: int | None = None,
    ) -> dict[str, list[float]]:
        """Train epochs ``0 .. epochs - 1``, one compiled call each, with Keras callbacks as under ``fit``.

        Returns:
            ``{"loss", "accuracy", "seconds"}`` per epoch (and ``val_loss``, ``val_accuracy``
            with ``validation``).
        """
        if start is not None or every_steps:
            raise ConfigurationError(
                "Checkpoints and resumed runs need Keras's TensorFlow backend; on JAX a run trains from epoch 0."
            )

        def run_call(first: int, count: int) -> list[EpochLogs]:
            logs = []
            for _ in range(count):
                logs.append(logs_of(self.run_epoch(feed)))
            if validation is not None:
                scores = self.evaluate(validation)
                logs[-1].update(val_loss=scores["loss"], val_accuracy=scores["accuracy"])
            return logs

        return run_epochs(
            self.model, run_call, epochs=epochs, steps_per_epoch=feed.steps, callbacks=callbacks,
            verbose=verbose, epochs_per_call=1,
        )

    def time_epochs(self, feed: JaxStreams, epochs: int) -> list[tuple[float, EpochLogs]]:
        """Train ``epochs`` epochs; each one's wall-clock seconds (its results waited for) and logs.

        For benchmarks: the first epoch includes compilation.
        """
        timed = []
        for _ in range(epochs):
            started = time.perf_counter()
            logs = logs_of(self.run_epoch(feed))
            timed.append((time.perf_counter() - started, logs))
        return timed


