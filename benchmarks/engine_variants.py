"""Time ways of running the tutorial's tiny LSTM trainings; prints microseconds per optimizer step.

Scenarios (the origin tutorial's shapes: 25 samples of one time step and one feature,
a 26-letter alphabet):

* ``stateless``: LSTM(32), batch 1, shuffled (25 steps per epoch).
* ``in-batch``:  LSTM(16), batch 25 (one step per epoch).
* ``stateful``:  LSTM(50, stateful=True), batch 1, in order, state reset each epoch.

Variants:

* ``keras-fit``: ``model.fit(..., epochs=1)`` once per epoch, like the tutorial
  (for ``stateful`` followed by ``reset_states()``).
* ``keras-fit-spe``: the same with ``compile(steps_per_execution=25)``.
* ``loop``: :class:`seqkit.engine.TrainingLoop`, one compiled call per epoch.
* ``loop-xla``: the same with ``jit_compile=True``.
* ``loop-unroll`` / ``loop-unroll-xla``: the model built with ``LSTM(unroll=True)``.
* ``...-auto``: ``TrainingLoop.fit``'s default chunking, several epochs per compiled
  call (~512 steps); the other loop variants use ``epochs_per_call=1``.

Run: ``TF_CPP_MIN_LOG_LEVEL=3 python benchmarks/engine_variants.py [--epochs-scale 1.0]``.
Compilation (the first call) is excluded; every variant trains the same number of steps.
"""

from __future__ import annotations

import argparse
import functools
import time
from collections.abc import Callable

import keras
import numpy as np

from seqkit.engine import EpochPlan, TrainingLoop, shuffled_plan

SAMPLES = 25
CLASSES = 26


def data() -> tuple[np.ndarray, np.ndarray]:
    """The tutorial's one-letter windows: A..Y scaled by 1/26 -> next letter."""
    ids = np.arange(SAMPLES)
    inputs = (ids / CLASSES).astype("float32").reshape(SAMPLES, 1, 1)
    return inputs, (ids + 1) % CLASSES


def build(units: int, *, batch: int | None, stateful: bool, unroll: bool) -> keras.Model:
    keras.utils.set_random_seed(7)
    first = keras.Input(batch_shape=(batch, 1, 1)) if stateful else keras.Input((1, 1))
    return keras.Sequential(
        [
            first,
            keras.layers.LSTM(units, stateful=stateful, unroll=unroll),
            keras.layers.Dense(CLASSES, activation="softmax"),
        ]
    )


SCENARIOS = {
    # name: (units, batch, stateful, shuffle, epochs)
    "stateless": (32, 1, False, True, 100),
    "in-batch": (16, 25, False, False, 1000),
    "stateful": (50, 1, True, False, 100),
}


def plan_for(batch: int, stateful: bool, shuffle: bool) -> Callable[[int], EpochPlan]:
    def plan(epoch: int) -> EpochPlan:
        base = shuffled_plan(SAMPLES, batch, seed=0, epoch=epoch, shuffle=shuffle)
        if not stateful:
            return base
        reset = np.zeros_like(base.reset_rows)
        reset[0] = True
        return EpochPlan(base.indices, reset)

    return plan


def time_keras_fit(scenario: str, epochs: int, *, steps_per_execution: int = 1) -> float:
    units, batch, stateful, shuffle, _ = SCENARIOS[scenario]
    inputs, targets = data()
    model = build(units, batch=batch, stateful=stateful, unroll=False)
    model.compile(
        optimizer=keras.optimizers.Adam(),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution,
    )

    def one_epoch() -> None:
        model.fit(inputs, targets, batch_size=batch, epochs=1, shuffle=shuffle, verbose=0)
        if stateful:
            model.layers[0].reset_states()

    one_epoch()  # compile
    start = time.perf_counter()
    for _ in range(epochs):
        one_epoch()
    steps = epochs * -(-SAMPLES // batch)
    return (time.perf_counter() - start) / steps * 1e6


def time_loop(
    scenario: str, epochs: int, *, jit: bool, unroll: bool, per_call: int | None
) -> float:
    units, batch, stateful, shuffle, _ = SCENARIOS[scenario]
    inputs, targets = data()
    model = build(units, batch=batch, stateful=stateful, unroll=unroll)
    loop = TrainingLoop(model, jit_compile=jit)
    plans = plan_for(batch, stateful, shuffle)
    # Compile on a run of the same chunk shape as the timed run.
    warm_up = min(epochs, per_call or epochs)
    loop.fit(inputs, targets, plans, epochs=warm_up, epochs_per_call=per_call)
    start = time.perf_counter()
    loop.fit(inputs, targets, plans, epochs=epochs, epochs_per_call=per_call)
    steps = epochs * -(-SAMPLES // batch)
    return (time.perf_counter() - start) / steps * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs-scale", type=float, default=1.0)
    parser.add_argument("--keras-epochs-scale", type=float, default=0.2,
                        help="Keras fit is slow; time it on fewer epochs")
    parser.add_argument("--scenarios", nargs="*", default=list(SCENARIOS))
    args = parser.parse_args()
    variants: dict[str, Callable[[str, int], float]] = {
        "keras-fit": time_keras_fit,
        "keras-fit-spe": functools.partial(time_keras_fit, steps_per_execution=SAMPLES),
    }
    for jit in (False, True):
        for unroll in (False, True):
            for per_call in (1, None):
                name = "loop" + "-unroll" * unroll + "-xla" * jit
                name += "-auto" if per_call is None else ""
                variants[name] = functools.partial(
                    time_loop, jit=jit, unroll=unroll, per_call=per_call
                )
    print(f"{'scenario':<10} {'variant':<16} {'us/step':>9}")
    for scenario in args.scenarios:
        epochs = SCENARIOS[scenario][4]
        for name, variant in variants.items():
            scale = args.keras_epochs_scale if name.startswith("keras") else args.epochs_scale
            micros = variant(scenario, max(10, int(epochs * scale)))
            print(f"{scenario:<10} {name:<16} {micros:>9.1f}", flush=True)


if __name__ == "__main__":
    main()
