"""Batched text generation: seqkit's one-batch ``generate`` against separate calls and the TensorFlow tutorial's loop.

Three contenders make the same work on the same network, interleaved in one run: 32 samples
of 500 characters each, sampled at temperature 1 after the same prime, from one char LSTM
(Embedding(V + 1, 16) -> LSTM(256) -> Dense(V)), a ``StreamTrainer(units=256, window=64,
batch_size=32, epochs=1, seed=7)`` model trained on the first 200,000 characters of the Python
standard library's source (training only makes the weights non-trivial: generation's speed does not
depend on them):

1. seqkit batched: one call ``model.generate(prime, 500, num_samples=32, temperature=1.0,
   seed=0)``: the 32 samples are the rows of one batch, one compiled call per step.
2. seqkit separate: 32 calls ``model.generate(prime, 500, temperature=1.0, seed=i)``.
3. The TensorFlow tutorial "Text generation with an RNN"
   (https://www.tensorflow.org/text/tutorials/text_generation): its ``MyModel`` (a
   ``keras.Model`` subclass, ``call(inputs, states=None, return_state=False,
   training=False)``: Embedding -> recurrent layer -> Dense logits), its ``OneStep`` model
   (``@tf.function generate_one_step``: ``tf.strings.unicode_split``, ``StringLookup``,
   the model with ``return_state=True``, ``logits[:, -1, :] / temperature`` plus the mask
   that forbids ``[UNK]``, ``tf.random.categorical``, the ids back to characters) and its
   Python loop of 500 steps on a batch of 32 identical primes, ``tf.strings.join`` of the
   results. Adapted, minimally, to be the same network as seqkit's: an LSTM instead of the
   tutorial's GRU, whose state is a list ``[h, c]`` (``x, *states = self.lstm(...)``; the
   initial state from ``get_initial_state(batch_size)``, Keras 3's signature; and
   ``super().__init__()`` where the tutorial passes ``self``, which Keras 3 refuses), and seqkit's
   trained weights copied in. The tutorial's ``StringLookup`` gives ``[UNK]`` id 0 and the
   characters ids 1..V: seqkit's embedding layout (ids + 1, 0 reserved), so the embedding
   is copied as it is; the tutorial's Dense has V + 1 outputs (one per lookup id), so column
   0 (``[UNK]``, masked to -inf anyway) is zero and columns 1..V are seqkit's. Before timing,
   the script checks that the tutorial model's greedy next character after the prime (the
   argmax of its masked logits) is seqkit's ``model.predict_next(prime)[0].token``, and how
   far its softmax is from seqkit's next-token distribution.

The ceiling is the machine's limit for this work: 500 calls of the bare compiled network
step (the tutorial model under ``tf.function``, a ``(32, 1)`` input of fixed ids and the
state passed back in, no sampling, no string lookups), as characters per second: the most
any generator that calls the network once per step at batch 32 could reach here. Beside it,
seqkit's ``model.stepper().advance`` alone (500 steps of fixed ids, no sampling) shows how
much of seqkit's step is the network call and how much the choosing of tokens.

``--rounds R`` rounds each run every contender, the stepper and the ceiling once in turn
(after an untimed warm-up of each, 2 steps, so tracing is not timed; each round's times go to
stderr); the table gives the median seconds (min-max), characters per second, seqkit
batched's speed over each row's, and each row's fraction of the ceiling. seqkit batched's
sample i is also checked to be seqkit separate's sample i (the same seed, alone or in a
batch). The exit status is 1 if that check or the greedy check fails.

    python benchmarks/generation.py               # about 2 minutes on 2 cores
    python benchmarks/generation.py --rounds 5
    python benchmarks/generation.py --dry         # seconds: 4 samples of 20 characters, a tiny model
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from seqkit._quiet import silence_tensorflow  # noqa: E402

silence_tensorflow()

PRIME = "def "
FULL = dict(samples=32, length=500, units=256, window=64, batch_size=32, text_bytes=200_000)
DRY = dict(samples=4, length=20, units=16, window=16, batch_size=4, text_bytes=None)
EMBEDDING = 16

CONTENDERS = ("batched", "separate", "tutorial")
LABELS = {
    "batched": "seqkit batched: 1 x `generate(prime, {length}, num_samples={samples}, temperature=1.0, seed=0)`",
    "separate": "seqkit separate: {samples} x `generate(prime, {length}, temperature=1.0, seed=i)`",
    "tutorial": "TF tutorial `OneStep` loop (LSTM), batch of {samples} primes, {length} steps",
    "stepper": "seqkit `stepper().advance` alone: {length} steps at batch {samples}, no sampling",
    "ceiling": "ceiling: {length} compiled network steps at batch {samples}, no sampling",
}


# The seqkit model ---------------------------------------------------------------------
def train_model(dry: bool) -> tuple[Any, str, float]:
    """The seqkit stream model the contenders share, a description of it, and its training seconds."""
    from seqkit.corpora import python_stdlib, sample_text
    from seqkit.trainers import StreamTrainer

    size = DRY if dry else FULL
    if dry:
        text, name = "".join(sample_text().tokens), "seqkit's sample text"
    else:
        documents = python_stdlib(max_bytes=2 * size["text_bytes"]).sequences
        text = "".join("".join(document) for document in documents)[: size["text_bytes"]]
        name = "the Python standard library"
    started = time.perf_counter()
    model, history = StreamTrainer(
        units=size["units"], window=size["window"], batch_size=size["batch_size"], embedding_dim=EMBEDDING,
        epochs=1, seed=7,
    ).fit(text)
    seconds = time.perf_counter() - started
    model.reset()
    described = (
        f"Embedding({model.vocabulary.size + 1}, {EMBEDDING}) -> LSTM({size['units']}) -> "
        f"Dense({model.vocabulary.size}); StreamTrainer(units={size['units']}, window={size['window']}, "
        f"batch_size={size['batch_size']}, epochs=1, seed=7) on {len(text):,} characters of {name}, "
        f"loss {history.loss[-1]:.3f} nats/char, {seconds:.0f} s"
    )
    return model, described, seconds


# The tutorial's code, with an LSTM ------------------------------------------------------
def tutorial_classes() -> tuple[type, type]:
    """The tutorial's ``MyModel`` (with an LSTM) and ``OneStep``, defined once TensorFlow is imported."""
    import tensorflow as tf

    class MyModel(tf.keras.Model):
        def __init__(self, vocab_size, embedding_dim, rnn_units):
            super().__init__()  # the tutorial: super().__init__(self), which Keras 3 refuses
            self.embedding = tf.keras.layers.Embedding(vocab_size, embedding_dim)
            self.lstm = tf.keras.layers.LSTM(rnn_units, return_sequences=True, return_state=True)  # the tutorial: GRU
            self.dense = tf.keras.layers.Dense(vocab_size)

        def call(self, inputs, states=None, return_state=False, training=False):
            x = inputs
            x = self.embedding(x, training=training)
            if states is None:
                states = self.lstm.get_initial_state(tf.shape(x)[0])  # Keras 3: a batch size; an LSTM: [h, c]
            # the tutorial: x, states = self.gru(x, initial_state=states, training=training)
            x, *states = self.lstm(x, initial_state=states, training=training)
            x = self.dense(x, training=training)

            if return_state:
                return x, states
            else:
                return x

    class OneStep(tf.keras.Model):
        def __init__(self, model, chars_from_ids, ids_from_chars, temperature=1.0):
            super().__init__()
            self.temperature = temperature
            self.model = model
            self.chars_from_ids = chars_from_ids
            self.ids_from_chars = ids_from_chars

            # Create a mask to prevent "[UNK]" from being generated.
            skip_ids = self.ids_from_chars(["[UNK]"])[:, None]
            sparse_mask = tf.SparseTensor(
                # Put a -inf at each bad index.
                values=[-float("inf")] * len(skip_ids),
                indices=skip_ids,
                # Match the shape to the vocabulary
                dense_shape=[len(ids_from_chars.get_vocabulary())])
            self.prediction_mask = tf.sparse.to_dense(sparse_mask)

        @tf.function
        def generate_one_step(self, inputs, states=None):
            # Convert strings to token IDs.
            input_chars = tf.strings.unicode_split(inputs, "UTF-8")
            input_ids = self.ids_from_chars(input_chars).to_tensor()

            # Run the model.
            # predicted_logits.shape is [batch, char, next_char_logits]
            predicted_logits, states = self.model(inputs=input_ids, states=states, return_state=True)
            # Only use the last prediction.
            predicted_logits = predicted_logits[:, -1, :]
            predicted_logits = predicted_logits / self.temperature
            # Apply the prediction mask: prevent "[UNK]" from being generated.
            predicted_logits = predicted_logits + self.prediction_mask

            # Sample the output logits to generate token IDs.
            predicted_ids = tf.random.categorical(predicted_logits, num_samples=1)
            predicted_ids = tf.squeeze(predicted_ids, axis=-1)

            # Convert from token ids to characters
            predicted_chars = self.chars_from_ids(predicted_ids)

            # Return the characters and model state.
            return predicted_chars, states

    return MyModel, OneStep


class Tutorial:
    """The tutorial's model, lookups and ``OneStep`` holding seqkit's trained weights."""

    def __init__(self, model: Any, units: int) -> None:
        import numpy as np
        import tensorflow as tf

        MyModel, OneStep = tutorial_classes()
        vocab = [model.vocabulary.id_to_token(i) for i in range(model.vocabulary.size)]
        self.ids_from_chars = tf.keras.layers.StringLookup(vocabulary=list(vocab), mask_token=None)
        self.chars_from_ids = tf.keras.layers.StringLookup(
            vocabulary=self.ids_from_chars.get_vocabulary(), invert=True, mask_token=None)
        vocab_size = len(self.ids_from_chars.get_vocabulary())  # V + 1: [UNK] is id 0, as seqkit's padding
        assert self.ids_from_chars.get_vocabulary()[1:] == vocab
        self.model = MyModel(vocab_size=vocab_size, embedding_dim=EMBEDDING, rnn_units=units)
        self.model(tf.zeros((1, 1), tf.int64))  # build
        layers = {layer.name: layer for layer in model.network.layers}
        self.model.embedding.set_weights(layers["embedding"].get_weights())
        self.model.lstm.set_weights(layers["lstm_1"].get_weights())
        kernel, bias = layers["next_token"].get_weights()
        self.model.dense.set_weights([
            np.concatenate([np.zeros((kernel.shape[0], 1), kernel.dtype), kernel], axis=1),
            np.concatenate([np.zeros(1, bias.dtype), bias]),
        ])
        self.one_step_model = OneStep(self.model, self.chars_from_ids, self.ids_from_chars, temperature=1.0)
        self.step = tf.function(lambda ids, states: self.model(ids, states=states, return_state=True))

    def next_logits(self, prime: str) -> Any:
        """The masked logits of the next character after ``prime``, from a zero state ``(V + 1,)``."""
        import tensorflow as tf

        ids = self.ids_from_chars(tf.strings.unicode_split([prime], "UTF-8")).to_tensor()
        logits = self.model(ids)[:, -1, :] + self.one_step_model.prediction_mask
        return logits[0].numpy()

    def generate(self, prime: str, samples: int, length: int) -> list[str]:
        """The tutorial's loop, timed as it times it (the loop and ``tf.strings.join``)."""
        import tensorflow as tf

        states = None
        next_char = tf.constant([prime] * samples)
        result = [next_char]

        for n in range(length):
            next_char, states = self.one_step_model.generate_one_step(next_char, states=states)
            result.append(next_char)

        result = tf.strings.join(result)
        return [text.decode("utf-8")[len(prime):] for text in result.numpy()]

    def ceiling(self, samples: int, length: int) -> None:
        """``length`` calls of the bare compiled network at batch ``samples``: fixed ids, the state passed back."""
        import tensorflow as tf

        ids = tf.ones((samples, 1), tf.int64)
        states = [tf.zeros((samples, self.model.lstm.units))] * 2
        for _ in range(length):
            logits, states = self.step(ids, states)
        logits.numpy()


# The contenders ---------------------------------------------------------------------------
def contenders(model: Any, tutorial: Tutorial, samples: int, length: int) -> dict[str, Callable[[], Any]]:
    import numpy as np

    def batched() -> list[str]:
        made = model.generate(PRIME, length, num_samples=samples, temperature=1.0, seed=0)
        return ["".join(tokens) for tokens in made]

    def separate() -> list[str]:
        return ["".join(model.generate(PRIME, length, temperature=1.0, seed=i)) for i in range(samples)]

    stepper = model.stepper()
    fixed = np.zeros(samples, dtype=np.int64)

    def stepper_alone() -> None:
        rows, _ = stepper.start([model.vocabulary.encode(list(PRIME))] * samples)
        for _ in range(length):
            rows, _ = stepper.advance(rows, fixed)

    return {
        "batched": batched,
        "separate": separate,
        "tutorial": lambda: tutorial.generate(PRIME, samples, length),
        "stepper": stepper_alone,
        "ceiling": lambda: tutorial.ceiling(samples, length),
    }


def greedy_check(model: Any, tutorial: Tutorial) -> tuple[bool, str]:
    """Whether the tutorial model's greedy next character after the prime is seqkit's, and the line saying so."""
    import numpy as np

    logits = tutorial.next_logits(PRIME)
    tutorial_char = tutorial.chars_from_ids(np.array([int(np.argmax(logits))])).numpy()[0].decode("utf-8")
    model.reset()
    seqkit_char = model.predict_next(PRIME)[0].token
    model.reset()
    distribution = model.next_distribution(PRIME)
    model.reset()
    softmax = np.exp(logits[1:] - logits[1:].max())  # column 0 is [UNK], masked to -inf
    softmax /= softmax.sum()
    difference = float(np.max(np.abs(softmax - distribution)))
    passed = tutorial_char == seqkit_char and difference < 1e-4
    return passed, (f"greedy check: {'passed' if passed else 'FAILED'}: tutorial argmax {tutorial_char!r}, seqkit "
                    f"predict_next {seqkit_char!r}; largest difference of the next-character distributions "
                    f"{difference:.1e}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the table gives medians")
    parser.add_argument("--dry", action="store_true",
                        help="4 samples of 20 characters, a tiny model (checks the script runs)")
    arguments = parser.parse_args(argv)
    if arguments.rounds < 1:
        parser.error("--rounds must be at least 1")
    from seqkit._quiet import quiet_import

    quiet_import()  # TensorFlow and Keras, without their start-up lines
    import keras
    import tensorflow as tf

    size = DRY if arguments.dry else FULL
    samples, length = size["samples"], size["length"]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, TensorFlow {tf.__version__}, Keras {keras.__version__}")
    print(f"command: python benchmarks/generation.py {' '.join(argv if argv is not None else sys.argv[1:])}".rstrip())
    tf.random.set_seed(0)
    model, described, _ = train_model(arguments.dry)
    print(f"model: {described}")
    tutorial = Tutorial(model, size["units"])
    passed, line = greedy_check(model, tutorial)
    print(line, flush=True)

    for run in contenders(model, tutorial, samples, 2).values():  # warm-up: every tracing happens here, untimed
        run()
    runs = contenders(model, tutorial, samples, length)
    texts: dict[str, Any] = {}
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for number in range(arguments.rounds):
        for name, run in runs.items():
            started = time.perf_counter()
            texts[name] = run()
            seconds[name].append(time.perf_counter() - started)
            print(f"round {number + 1} {name}: {seconds[name][-1]:.2f} s", file=sys.stderr, flush=True)
    for name in CONTENDERS:
        if len(texts[name]) != samples or any(len(text) != length for text in texts[name]):
            lengths = sorted({len(text) for text in texts[name]})
            raise SystemExit(f"{name} made {len(texts[name])} samples of lengths {lengths}")
    same = texts["batched"] == texts["separate"]
    print(f"seqkit batched sample i == seqkit separate sample seeded i: {'yes' if same else 'NO'}")
    print(f"prime {PRIME!r}; sample 0 of each: " + "; ".join(f"{name} {texts[name][0][:40]!r}" for name in CONTENDERS))

    characters = samples * length
    median = {name: statistics.median(values) for name, values in seconds.items()}
    speed = {name: characters / median[name] for name in runs}
    print(f"\n## Batched generation: {samples} samples x {length} characters, temperature 1, LSTM({size['units']}), "
          f"{arguments.rounds} rounds interleaved")
    print("| contender | seconds, median (min-max) | chars / s | seqkit batched / contender | fraction of ceiling |")
    print("|---|---:|---:|---:|---:|")
    for name in runs:
        values = seconds[name]
        ratio = speed["batched"] / speed[name]
        print(f"| {LABELS[name].format(samples=samples, length=length)} | {median[name]:.2f} "
              f"({min(values):.2f}-{max(values):.2f}) | {speed[name]:,.0f} | {ratio:.2f}x | "
              f"{speed[name] / speed['ceiling']:.0%} |")
    return 0 if passed and same else 1


if __name__ == "__main__":
    sys.exit(main())
