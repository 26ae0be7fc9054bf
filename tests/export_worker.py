"""Serve seqkit's exports with TensorFlow alone: run by ``tests/test_export.py`` in a subprocess.

``import seqkit`` is blocked before anything else (the package is installed in
editable mode, so ``python -I`` alone would still find it). The one argument is
a JSON file holding a list of jobs; the answers are printed as one JSON document:

- ``{"format": F, "path": P, "prime": "A", "steps": 25}``: greedy generation with
  the one-step signature, the state kept here, as a server keeps one per user;
  answers ``{"generated": [...], "first": [probabilities after the prime]}``;
- ``{"format": F, "path": P, "windows": [[token, ...], ...]}``: a stateless model's
  probabilities for each window, in one batch; answers ``{"probabilities": [[...]]}``.
"""

from __future__ import annotations

import importlib.abc
import json
import os
import sys
from collections.abc import Callable
from typing import Any


class BlockSeqkit(importlib.abc.MetaPathFinder):
    """Refuse to import seqkit, as on a server where it is not installed."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "seqkit" or name.startswith("seqkit."):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by tests/export_worker.py)")
        return None


sys.meta_path.insert(0, BlockSeqkit())
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


Step = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]


def stepper(format_name: str, path: str) -> tuple[Step, dict[str, int]]:
    """``step(inputs) -> outputs`` (dicts of NumPy arrays) and the state's ``{name: units}``."""
    if format_name == "saved_model":
        signature = tf.saved_model.load(path).signatures["serving_default"]
        specs = signature.structured_input_signature[1]

        def step(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            return {name: value.numpy() for name, value in signature(**{k: tf.constant(v) for k, v in inputs.items()}).items()}

        return step, {name: spec.shape[-1] for name, spec in specs.items() if name != "tokens"}
    if format_name == "keras":
        import keras

        model = keras.models.load_model(path)

        def step(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            return {name: np.asarray(value) for name, value in model({k: tf.constant(v) for k, v in inputs.items()}).items()}

        return step, {tensor.name: tensor.shape[-1] for tensor in model.inputs if tensor.name != "tokens"}
    interpreter = tf.lite.Interpreter(model_path=path)
    runner = interpreter.get_signature_runner("serving_default")
    details = runner.get_input_details()

    def step(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return runner(**inputs)

    return step, {name: int(detail["shape_signature"][-1]) for name, detail in details.items() if name != "tokens"}


def generate(format_name: str, path: str, prime: str, steps: int) -> dict[str, Any]:
    step, units = stepper(format_name, path)
    state = {name: np.zeros((1, size), np.float32) for name, size in units.items()}
    outputs = None
    for token in prime:
        outputs = step({"tokens": np.array([[token]]), **state})
        state = {name: outputs[name] for name in units}
    first = outputs["probabilities"][0].tolist()
    generated = []
    for number in range(steps):
        token = outputs["token"][0].decode("utf-8")
        generated.append(token)
        if number + 1 < steps:
            outputs = step({"tokens": np.array([[token]]), **state})
            state = {name: outputs[name] for name in units}
    return {"generated": generated, "first": first}


def probabilities(format_name: str, path: str, windows: list[list[str]]) -> dict[str, Any]:
    step, _ = stepper(format_name, path)
    return {"probabilities": step({"tokens": np.array(windows)})["probabilities"].tolist()}


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as handle:
        jobs = json.load(handle)
    answers = []
    for job in jobs:
        if "windows" in job:
            answers.append(probabilities(job["format"], job["path"], job["windows"]))
        else:
            answers.append(generate(job["format"], job["path"], job["prime"], job["steps"]))
    try:
        import seqkit  # noqa: F401
    except ModuleNotFoundError:
        importable = False
    else:
        importable = True
    print(json.dumps({"answers": answers, "seqkit_importable": importable, "seqkit_loaded": "seqkit" in sys.modules}))


if __name__ == "__main__":
    main()
