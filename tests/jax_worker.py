"""Runs seqkit on Keras's JAX backend in a process where ``import tensorflow`` fails.

Used by ``tests/test_jax_backend.py`` and ``benchmarks/gpu_check.sh``; prints one JSON object::

    python tests/jax_worker.py train BUNDLE            # train a small stream model, save it
    python tests/jax_worker.py generate BUNDLE PRIME STEPS   # load: greedy text, 5 samples in a batch, 3 beams, score

With ``JAX_WORKER_ALLOW_TENSORFLOW=1`` TensorFlow stays importable, to check that nothing
imports it when it could (``tensorflow_imported_before_save``: Keras's serializer itself
imports an installed TensorFlow when a model is saved).
"""

from __future__ import annotations

import os
import sys

if os.environ.get("JAX_WORKER_ALLOW_TENSORFLOW") != "1":
    sys.modules["tensorflow"] = None  # type: ignore[assignment]  # any import of TensorFlow now fails
os.environ["KERAS_BACKEND"] = "jax"

import json  # noqa: E402

TEXT = "def add(a, b):\n    return a + b\n\n" * 40


def train(bundle: str) -> dict[str, object]:
    from seqkit.trainers import StreamTrainer

    trainer = StreamTrainer(window=16, batch_size=4, units=24, embedding_dim=8, epochs=6, learning_rate=0.01)
    model, history = trainer.fit(TEXT, validation=0.1)
    model.reset()
    result = {
        "loss": history.loss, "val_loss": history.val_loss, "policy": model.spec["policy"],
        "greedy": "".join(model.generate("def ", steps=40)), "score": model.score(TEXT).loss,
        "tensorflow_imported_before_save": sys.modules.get("tensorflow") is not None,
    }
    model.save(bundle)
    return result


def generate(bundle: str, prime: str, steps: int) -> dict[str, object]:
    from seqkit.sequence_model import SequenceModel

    model = SequenceModel.load(bundle)
    model.reset()
    return {
        "greedy": "".join(model.generate(prime, steps=steps)), "score": model.score(TEXT).loss,
        "samples": ["".join(tokens) for tokens in model.generate(prime, steps, num_samples=5, temperature=0.8, seed=3)],
        "beams": ["".join(beam.tokens) for beam in model.sample(prime, steps, beam=3)],
    }


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    result = train(*arguments) if command == "train" else generate(arguments[0], arguments[1], int(arguments[2]))
    result["tensorflow_imported"] = sys.modules.get("tensorflow") is not None
    print(json.dumps(result))
