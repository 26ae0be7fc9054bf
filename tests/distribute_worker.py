"""Run by tests/test_distribute.py in subprocesses: train a small StreamTrainer under a strategy.

Usage: python distribute_worker.py MODE OUT_FILE
  MODE ``mirrored``: split the CPU into 2 logical devices, train on one device, then
  under MirroredStrategy over both, at the same global batch; writes OUT_FILE.single.npz
  and OUT_FILE.mirrored.npz; then the same for a StatelessTrainer
  (OUT_FILE.stateless-single.npz, OUT_FILE.stateless-mirrored.npz).
  MODE ``worker``: one worker of a MultiWorkerMirroredStrategy cluster (TF_CONFIG set);
  writes OUT_FILE.
Each file holds the loss curve, the number of replicas and the final weights.
"""

import sys

mode, out = sys.argv[1], sys.argv[2]

from seqkit.distribute import resolve_strategy, split_cpu  # noqa: E402

if mode == "mirrored":
    split_cpu(2)
    runs = {f"{out}.single.npz": None, f"{out}.mirrored.npz": "mirrored"}
else:
    runs = {out: resolve_strategy("multi-worker")}  # before any other TensorFlow work

import numpy as np  # noqa: E402

from seqkit.corpora import sample_text  # noqa: E402
from seqkit.trainers.stream import StreamTrainer  # noqa: E402

for path, strategy in runs.items():
    strategy = resolve_strategy(strategy)
    trainer = StreamTrainer(
        window=16, batch_size=4, units=16, embedding_dim=8, epochs=3, strategy=strategy, jit_compile=False
    )
    model, history = trainer.fit(sample_text())
    np.savez(
        path,
        loss=np.array(history.loss),
        replicas=np.array(strategy.num_replicas_in_sync),
        **{f"weight_{number}": weight for number, weight in enumerate(trainer.network_.get_weights())},
    )

if mode == "mirrored":  # the window trainer too: batches of 5 windows, split 3 + 2 (padded) over 2 replicas
    from seqkit import alphabet  # noqa: E402
    from seqkit.trainers import StatelessTrainer  # noqa: E402

    for path, strategy in ((f"{out}.stateless-single.npz", None), (f"{out}.stateless-mirrored.npz", "mirrored")):
        trainer = StatelessTrainer(window=3, encoding="onehot", units=8, epochs=4, batch_size=5, strategy=strategy)
        model, history = trainer.fit(alphabet())
        np.savez(
            path,
            loss=np.array(history.loss),
            accuracy=np.array(history.accuracy),
            **{f"weight_{number}": weight for number, weight in enumerate(model.network.get_weights())},
        )
