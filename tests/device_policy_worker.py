"""Run by tests/test_device_policy.py in a subprocess: train one tiny trainer with Keras's GPU check forced on.

Usage: python device_policy_worker.py SCENARIO TRAINER

SCENARIO ``forced``: Keras's LSTM believes a GPU is there
(``keras.src.backend.tensorflow.rnn._is_gpu_available`` returns True), so an LSTM built with
``use_cudnn="auto"`` emits the cuDNN op ``CudnnRNNV3``; TensorFlow itself sees only the CPU,
so seqkit's policy decides for a CPU.
SCENARIO ``simulated-gpu``: the same, and seqkit's policy is told the device is a GPU too
(``seqkit.engine.policy.visible_device`` returns ``"gpu"``): the policy decides as on a GPU
machine, and a cuDNN choice shows up as the cuDNN op failing to find a CPU kernel.

TRAINER is one of ``stateless``, ``in-batch``, ``stateful``, ``stream``, ``variable-length``.
For ``jit_compile`` None (the policy decides), True and False in turn, one fit of 2 epochs
with 8 units; prints one JSON line per fit: the outcome, the error's type and message if
it failed, the losses and ``model.spec["policy"]`` if it trained.
"""

from __future__ import annotations

import json
import math
import os
import sys
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
scenario, trainer_name = sys.argv[1], sys.argv[2]

from seqkit._quiet import quiet_import, silence_tensorflow  # noqa: E402

silence_tensorflow()

quiet_import()
import keras  # noqa: E402, F401

sys.modules["keras.src.backend.tensorflow.rnn"]._is_gpu_available = lambda: True

import seqkit.trainers as trainers  # noqa: E402
from seqkit import alphabet  # noqa: E402
from seqkit.errors import SeqkitError  # noqa: E402

if scenario == "simulated-gpu":
    import seqkit.engine.policy as policy_module

    original = policy_module.visible_device
    for module in list(sys.modules.values()):  # also where a module imported the function by name
        if getattr(module, "__name__", "").startswith("seqkit") and getattr(module, "visible_device", None) is original:
            module.visible_device = lambda: "gpu"
elif scenario != "forced":
    raise SystemExit(f"unknown scenario {scenario!r}")

# Proof that the forcing took: Keras now builds an LSTM for cuDNN (and so turns its own XLA off).
print(json.dumps({"check": "forcing", "lstm_supports_jit": keras.layers.LSTM(4).supports_jit}), flush=True)

TINY = {"units": 8, "epochs": 2}
MAKERS = {
    "stateless": lambda **extra: trainers.StatelessTrainer(window=3, **TINY, **extra),
    "in-batch": lambda **extra: trainers.InBatchTrainer(**TINY, **extra),
    "stateful": lambda **extra: trainers.StatefulTrainer(**TINY, **extra),
    "stream": lambda **extra: trainers.StreamTrainer(window=4, batch_size=2, embedding_dim=4, **TINY, **extra),
    "variable-length": lambda **extra: trainers.StatelessTrainer(
        window=trainers.RandomWindows(count=50, max_length=4), **TINY, **extra
    ),
}

for jit_compile in (None, True, False):
    record: dict = {"jit_compile": jit_compile}
    try:
        trainer = MAKERS[trainer_name]() if jit_compile is None else MAKERS[trainer_name](jit_compile=jit_compile)
        model, history = trainer.fit(alphabet())
    except Exception as error:  # noqa: BLE001 - the test classifies every failure
        record.update(
            outcome="error",
            error_type=type(error).__name__,
            seqkit_error=isinstance(error, SeqkitError),
            message=str(error)[:4000],
            traceback="".join(traceback.format_exception(error))[-3000:],
        )
    else:
        spec = model.spec if isinstance(model.spec, dict) else {}
        record.update(
            outcome="trained",
            loss=[float(value) for value in history.loss],
            finite=all(math.isfinite(value) for value in history.loss),
            policy=spec.get("policy"),
        )
    print(json.dumps(record), flush=True)
