"""Train seqkit's reference runs and write their final weights (run in a subprocess).

Usage: python digest_worker.py OUT.npz [mirrored]

Each reference run is a small training at seed 7 on the alphabet; the file holds, per
run, the final weights of the fitted network (``NAME/INDEX``). ``tests/test_core_digests.py``
compares them with the recorded ones in ``tests/data/core_weights.npz``: a refactor of
the training core must reproduce them bit for bit on the machine they were recorded on.
``mirrored`` splits the CPU in two and trains the runs under MirroredStrategy instead.
"""

import sys

out = sys.argv[1]
mirrored = len(sys.argv) > 2 and sys.argv[2] == "mirrored"

if mirrored:
    from seqkit.distribute import split_cpu

    split_cpu(2)

import numpy as np  # noqa: E402

from seqkit import alphabet  # noqa: E402
from seqkit.trainers import (  # noqa: E402
    InBatchTrainer,
    RandomWindows,
    StatefulTrainer,
    StatelessTrainer,
    StreamTrainer,
)


def runs():
    if mirrored:
        yield "stateless-mirrored", StatelessTrainer(
            window=3, encoding="onehot", units=8, epochs=4, batch_size=5, strategy="mirrored"
        )
        yield "stream-mirrored", StreamTrainer(
            window=4, batch_size=2, units=8, embedding_dim=4, epochs=3, strategy="mirrored", kernel=False
        )
        return
    yield "stateless", StatelessTrainer(window=3, units=8, epochs=30, batch_size=4)
    yield "stateless-onehot-2layers-dropout", StatelessTrainer(
        window=3, encoding="onehot", units=8, layers=2, dropout=0.2, epochs=10, batch_size=5
    )
    yield "stateless-features", StatelessTrainer(layout="features", window=3, units=8, epochs=10)
    yield "variable-length-embedding", StatelessTrainer(
        window=RandomWindows(count=100, max_length=4), encoding="embedding", units=8, epochs=5, batch_size=8
    )
    yield "variable-length-scaled", StatelessTrainer(
        window=RandomWindows(count=100, max_length=4), units=8, epochs=5, batch_size=8
    )
    yield "in-batch", InBatchTrainer(units=8, epochs=100)
    yield "stateful", StatefulTrainer(units=8, epochs=20)
    yield "stateful-3-streams-every-4", StatefulTrainer(window=2, units=8, epochs=10, batch_size=3, reset="every:4")
    yield "stream", StreamTrainer(window=4, batch_size=2, units=8, embedding_dim=4, epochs=3, kernel=False)


weights = {}
for name, trainer in runs():
    model, _ = trainer.fit(alphabet())
    for number, value in enumerate(model.network.get_weights()):
        weights[f"{name}/{number}"] = value
np.savez(out, **weights)
