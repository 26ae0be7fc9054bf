"""seqkit's own LSTM kernel for training: the recurrence in one loop, its backward by hand.

Where the device policy (:mod:`seqkit.engine.policy`) chooses it, stream training
(:class:`~seqkit.engine.loops.StreamLoop`) computes the stream network's LSTM layers with
this kernel rather than through Keras's ``LSTM`` layer, which, traced into a training step,
runs a generic ``while`` loop with the input projection ``x_t @ W`` beside the recurrent
matmul ``h @ U`` in every step, and lets autodiff build the backward loop from the forward
one, storing every intermediate of every step. The kernel instead:

- *hoists* the input projection for all ``T`` steps out of the recurrence into one
  matmul (:func:`lstm_sequence`);
- runs the recurrence as one ``tf.while_loop`` whose body is the recurrent matmul and the
  gate arithmetic only, the three sigmoid gates one contiguous block (one ``sigmoid``
  over ``3H`` columns and one ``tanh`` over ``H``; :data:`GATE_ORDER`), and keeps ``h``,
  ``c`` and the gate activations of each step (:func:`lstm_recurrence`);
- computes its backward by hand (:func:`lstm_recurrence`'s custom gradient): the kept
  gate activations become per-step factors for all steps at once, so that the reverse
  loop is the recurrent matmul (by a transpose of ``U`` taken once) and a few
  multiplications, and the recurrent kernel's gradient ``sum_t h_{t-1}^T dz_t`` is *one*
  matmul over all steps after the loop.

The kernel spreads over the cores from outside: :class:`~seqkit.engine.loops.StreamLoop`
with ``shards=n`` computes the gradients of ``n`` slices of the streams as ``n``
independent compiled programs, which TensorFlow's executor runs at once, one per core,
and applies their sum once. The window trainers (1-5 steps per window) do not use the
kernel: at so few steps Keras's layer with ``unroll=True`` is faster, and the policy
unrolls them instead.

The measurements behind these choices, and the variants tried and dropped, are in
``benchmarks/RESULTS.md`` ("LSTM kernel: variants tried").

The weights are Keras's, in Keras's layout (``kernel (D, 4H)``, ``recurrent_kernel (H,
4H)``, ``bias (4H,)``, gates ordered input, forget, cell, output, sigmoid and tanh), read
from the model's own ``keras.layers.LSTM`` layers: a network trained through the kernel is
an ordinary Keras model, saved, bundled and predicted from as before. The dropout after
each LSTM layer draws the mask Keras's ``Dropout`` draws, element for element (``_dropout``).
``tests/test_kernel.py`` pins the kernel to ``keras.layers.LSTM``: outputs, final states
and every gradient.

>>> import numpy as np, tensorflow as tf
>>> projected = tf.random.stateless_normal((5, 2, 12), seed=(1, 2))  # (T, B, 4H), H = 3
>>> h0, c0 = tf.zeros((2, 3)), tf.zeros((2, 3))
>>> outputs, h, c = lstm_recurrence(projected, h0, c0, tf.zeros((3, 12)))
>>> outputs.shape.as_list(), bool(np.allclose(outputs[-1], h))
([5, 2, 3], True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import tensorflow as tf

__all__ = [
    "GATE_ORDER",
    "lstm_recurrence",
    "lstm_recurrence_bfloat16",
    "lstm_sequence",
    "matmul",
    "stream_forward",
    "supports_kernel",
    "to_kernel_order",
]


GATE_ORDER = (0, 1, 3, 2)
"""The kernel's gate blocks in terms of Keras's (input, forget, cell, output): input, forget,
output, cell, so that the three sigmoid gates are one contiguous block."""


def to_kernel_order(weights: tf.Tensor) -> tf.Tensor:
    """The columns of a Keras LSTM weight (``(..., 4H)``, gates i, f, c, o) in :data:`GATE_ORDER`."""
    blocks = tf.split(weights, 4, axis=-1)
    return tf.concat([blocks[index] for index in GATE_ORDER], axis=-1)


def matmul(a: tf.Tensor, b: tf.Tensor, *, bfloat16: bool = False, **kwargs: Any) -> tf.Tensor:
    """``tf.matmul(a, b)``, or with ``bfloat16`` its operands rounded to bfloat16 and its
    product, rounded to bfloat16 too, returned as float32: mixed precision's matmul (float32
    in and out, the multiplications in bfloat16 with float32 accumulation where the CPU has
    AMX or AVX512-BF16, as under ``torch.autocast``, whose products are bfloat16 as well).
    Keyword arguments go to ``tf.matmul``.

    >>> a = tf.constant([[1.0 + 2.0 ** -12]])
    >>> float(matmul(a, a)[0, 0]) > 1.0, float(matmul(a, a, bfloat16=True)[0, 0])
    (True, 1.0)
    """
    if not bfloat16:
        return tf.matmul(a, b, **kwargs)
    product = tf.matmul(tf.cast(a, tf.bfloat16), tf.cast(b, tf.bfloat16), **kwargs)  # a cast of bfloat16 is free
    return tf.cast(product, tf.float32)


def _recurrence(bfloat16: bool) -> Any:
    """:func:`lstm_recurrence` with its matmuls in float32, or in bfloat16 (:func:`matmul`)."""

    @tf.custom_gradient
    def recurrence(
        projected: tf.Tensor, h0: tf.Tensor, c0: tf.Tensor, recurrent_kernel: tf.Tensor
    ) -> tuple[tuple[tf.Tensor, tf.Tensor, tf.Tensor], Any]:
        return _recurrence_and_backward(projected, h0, c0, recurrent_kernel, bfloat16=bfloat16)

    return recurrence


def _recurrence_and_backward(
    projected: tf.Tensor, h0: tf.Tensor, c0: tf.Tensor, recurrent_kernel: tf.Tensor, *, bfloat16: bool
) -> tuple[tuple[tf.Tensor, tf.Tensor, tf.Tensor], Any]:
    """The LSTM recurrence over time-major pre-projected inputs, with a hand-written backward.

    The forward loop keeps ``h``, ``c`` and the four gate activations of every step; the
    backward turns the activations into per-step factors for all steps at once, then runs
    a reverse loop that carries ``dh`` and ``dc`` and keeps each step's gate gradients; the
    recurrent kernel's gradient is computed after it, over every step at once.

    Args:
        projected: ``(T, B, 4H)``: ``x_t @ kernel + bias`` for every step, gate blocks in
            :data:`GATE_ORDER` (:func:`to_kernel_order` of Keras's).
        h0: ``(B, H)``, the initial hidden state.
        c0: ``(B, H)``, the initial cell state.
        recurrent_kernel: ``(H, 4H)``, gate blocks in :data:`GATE_ORDER`.
        bfloat16: the recurrent matmuls (forward, backward, and the recurrent kernel's
            gradient) in bfloat16 (:func:`matmul`); everything else stays float32.

    Returns:
        ``(outputs, h, c)``: the hidden state of every step ``(T, B, H)``, and the final
        hidden and cell states, with the backward function.
    """
    steps = tf.shape(projected)[0]
    units = h0.shape[-1] if h0.shape[-1] is not None else tf.shape(h0)[-1]
    dtype = projected.dtype
    step_kernel = tf.cast(recurrent_kernel, tf.bfloat16) if bfloat16 else recurrent_kernel  # rounded once, not per step

    def forward(t, h, c, states, activations):
        z = projected[t] + matmul(h, step_kernel, bfloat16=bfloat16)
        sigmoids, cell_input = tf.sigmoid(z[:, : 3 * units]), tf.tanh(z[:, 3 * units :])
        c = sigmoids[:, units : 2 * units] * c + sigmoids[:, :units] * cell_input
        h = sigmoids[:, 2 * units :] * tf.tanh(c)
        return (
            t + 1, h, c, states.write(t, tf.concat([h, c], -1)),
            activations.write(t, tf.concat([sigmoids, cell_input], -1)),
        )

    def per_step() -> tf.TensorArray:
        return tf.TensorArray(dtype, size=steps, element_shape=tf.TensorShape([h0.shape[0], None]))

    _, h, c, states, activations = tf.while_loop(
        lambda t, *_: t < steps, forward, (tf.constant(0), h0, c0, per_step(), per_step()), parallel_iterations=1
    )
    states, activations = states.stack(), activations.stack()
    hidden, cells = states[..., :units], states[..., units:]

    def backward(d_hidden, d_h, d_c):
        d_h = tf.zeros_like(h0) if d_h is None else d_h
        d_c = tf.zeros_like(c0) if d_c is None else d_c
        d_hidden = tf.zeros_like(hidden) if d_hidden is None else d_hidden
        previous_hidden = tf.concat([h0[None], hidden[:-1]], 0)
        previous_cells = tf.concat([c0[None], cells[:-1]], 0)
        i, f = activations[..., :units], activations[..., units : 2 * units]
        o, cell_input = activations[..., 2 * units : 3 * units], activations[..., 3 * units :]
        tanh_c = tf.tanh(cells)
        # dz = [dc, dc, dh, dc] * factors; dc_t = dc_{t+1} * f_{t+1} + dh_t * o_t * (1 - tanh(c_t)^2)
        factors = tf.concat(
            [cell_input * i * (1 - i), previous_cells * f * (1 - f), tanh_c * o * (1 - o), i * (1 - cell_input * cell_input)],
            -1,
        )
        carried = tf.concat([o * (1 - tanh_c * tanh_c), f], -1)
        recurrent_transposed = tf.transpose(step_kernel)  # once, not in every step

        def step(k, d_h, d_c, grads):
            t = steps - 1 - k
            d_h = d_h + d_hidden[t]
            d_c = d_c + d_h * carried[t][:, :units]
            d_z = tf.concat([d_c, d_c, d_h, d_c], -1) * factors[t]
            grads = grads.write(t, d_z)
            return k + 1, matmul(d_z, recurrent_transposed, bfloat16=bfloat16), d_c * carried[t][:, units:], grads

        _, d_h0, d_c0, grads = tf.while_loop(
            lambda k, *_: k < steps, step, (tf.constant(0), d_h, d_c, per_step()), parallel_iterations=1
        )
        d_z = grads.stack()
        d_recurrent = matmul(
            tf.reshape(previous_hidden, [-1, units]), tf.reshape(d_z, [-1, 4 * units]), transpose_a=True,
            bfloat16=bfloat16,
        )
        return d_z, d_h0, d_c0, d_recurrent

    return (hidden, h, c), backward


lstm_recurrence = _recurrence(bfloat16=False)
lstm_recurrence.__doc__ = _recurrence_and_backward.__doc__
lstm_recurrence_bfloat16 = _recurrence(bfloat16=True)
""":func:`lstm_recurrence` with its matmuls in bfloat16 (float32 state, gates and gradients)."""


def lstm_sequence(
    layer: keras.layers.LSTM, inputs: tf.Tensor, h0: tf.Tensor, c0: tf.Tensor, *, bfloat16: bool = False
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """``layer(inputs, initial_state=[h0, c0])`` with ``return_sequences`` and ``return_state``, by the kernel.

    Args:
        layer: a built ``keras.layers.LSTM`` with Keras's default activations; its
            weights are used as they are.
        inputs: ``(B, T, D)`` float inputs.
        h0: ``(B, H)`` initial hidden state.
        c0: ``(B, H)`` initial cell state.
        bfloat16: the input projection and the recurrence's matmuls in bfloat16
            (:func:`matmul`). Defaults to False.

    Returns:
        ``(outputs (B, T, H), h, c)``, as the layer returns them.
    """
    cell = layer.cell
    batch, steps = tf.shape(inputs)[0], tf.shape(inputs)[1]
    time_major = tf.reshape(tf.transpose(inputs, [1, 0, 2]), [-1, inputs.shape[-1]])
    projected = matmul(time_major, to_kernel_order(cell.kernel), bfloat16=bfloat16) + to_kernel_order(cell.bias)
    recurrence = lstm_recurrence_bfloat16 if bfloat16 else lstm_recurrence
    hidden, h, c = recurrence(tf.reshape(projected, [steps, batch, -1]), h0, c0, to_kernel_order(cell.recurrent_kernel))
    return tf.transpose(hidden, [1, 0, 2]), h, c


def _lstm_layers(model: keras.Model) -> list[keras.layers.LSTM]:
    return [layer for layer in model.layers if isinstance(layer, keras.layers.LSTM)]


def supports_kernel(model: keras.Model) -> bool:
    """Whether :func:`stream_forward` computes ``model``: a float32 stream network whose LSTMs
    use Keras's default activations, no recurrent dropout and no masking."""
    layers = _lstm_layers(model)
    names = {layer.name for layer in model.layers}
    if not layers or "embedding" not in names or "next_token" not in names:
        return False
    for layer in layers:
        cell = layer.cell
        if (
            layer.compute_dtype != "float32"
            or cell.activation is not keras.activations.tanh
            or cell.recurrent_activation is not keras.activations.sigmoid
            or not cell.use_bias
            or cell.recurrent_dropout
            or cell.dropout
            or layer.go_backwards
            or layer.unroll
        ):
            return False
    return not model.get_layer("embedding").mask_zero


def stream_forward(
    model: keras.Model, inputs: Sequence[tf.Tensor], *, training: bool, bfloat16: bool = False
) -> list[tf.Tensor]:
    """The stream network (:func:`seqkit.models.build_stream_model`) computed with the kernel.

    Takes and returns what ``model(inputs, training=training)`` does: ``[ids + 1, h_1,
    c_1, …]`` in, ``[logits, h_1', c_1', …]`` out, with the model's own weights. With
    ``bfloat16``, every matmul (the LSTMs' input projections and recurrences, and the output
    layer) runs in bfloat16 (:func:`matmul`), the weights, states, gates and logits float32:
    mixed precision where the network itself stays float32, as it is saved and predicts.
    """
    ids, states = inputs[0], list(inputs[1:])
    hidden = model.get_layer("embedding")(ids)
    final_states: list[tf.Tensor] = []
    for number, layer in enumerate(_lstm_layers(model)):
        hidden, h, c = lstm_sequence(layer, hidden, states[2 * number], states[2 * number + 1], bfloat16=bfloat16)
        final_states += [h, c]
        try:
            dropout = model.get_layer(f"dropout_{number + 1}")
        except ValueError:
            dropout = None
        if dropout is not None:
            hidden = _dropout(dropout, hidden, training=training)
    output = model.get_layer("next_token")
    if not bfloat16:
        return [output(hidden), *final_states]
    logits = tf.tensordot(tf.cast(hidden, tf.bfloat16), tf.cast(output.kernel, tf.bfloat16), axes=1)
    return [tf.cast(logits, tf.float32) + output.bias, *final_states]


def _dropout(layer: keras.layers.Dropout, inputs: tf.Tensor, *, training: bool) -> tf.Tensor:
    """``layer(inputs, training=training)``, its mask drawn with the Philox generator.

    Keras's dropout (``tf.nn.experimental.stateless_dropout``) draws with TensorFlow's
    default generator (``"auto_select"``), whose XLA code on a CPU is several times slower
    than Philox's (``benchmarks/RESULTS.md``, "Dropout in stream training"). The mask is
    the one Keras draws, element for element: the same test (``uniform >= rate``) on the
    same seed, taken from the layer's own seed generator, and on a CPU ``"auto_select"``
    draws the bits Philox draws, eagerly and under XLA (measured by
    ``benchmarks/dropout_masks.py``; under XLA both masks differ from the eager ones of
    the same seed, alike). So a seeded run repeats and trains as through Keras's layer.
    The kept values are divided by ``1 - rate`` where Keras multiplies by its inverse:
    equal to float rounding (1.2e-7 relative at most).
    """
    if not training or not layer.rate or layer.noise_shape is not None:
        return layer(inputs, training=training)
    seed = tf.cast(tf.math.floormod(layer.seed_generator.next(), tf.int32.max - 1), tf.int32)
    keep = tf.random.stateless_uniform(tf.shape(inputs), seed=seed, alg="philox") >= layer.rate
    return tf.where(keep, inputs / (1.0 - layer.rate), tf.zeros_like(inputs))
