"""What the stages of ``Trainer.fit`` hand each other: plain data, no code.

The prepare stage's data step makes a :class:`Prepared`; the stage ends with a :class:`Run`,
which the train stage trains (every trainer the same way, through its driver) and the
finish stage turns into a fitted model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import keras

from seqkit.engine.policy import DevicePolicy
from seqkit.layouts import Layout
from seqkit.models import ModelSpec
from seqkit.vocab import Vocabulary

if TYPE_CHECKING:  # TensorFlow's engine; on Keras's JAX backend the driver is a JaxStreamLoop
    from seqkit.engine.driver import Driver
    from seqkit.engine.feeds import Feed

__all__ = ["Prepared", "Run"]


@dataclass
class Prepared:
    """What the data step hands the network, driver and feed steps: plain data.

    Attributes:
        vocabulary: the id mapping.
        layout: the prediction layout.
        spec: the network's hyperparameters.
        window_length: ids per prediction window.
        samples: training samples (windows, or tokens per epoch for streams).
        corpus: ``{"name", "level", "tokens"}`` of the training data.
        corpus_data: the corpus (or token file) a checkpoint fingerprints.
        strategy: the ``tf.distribute`` strategy the network is built under, or None.
        step_rows: rows per optimizer step (per replica), for the device policy.
        time_steps: time steps of every sample where they are all alike, for the device
            policy (unrolling), else None.
        material: what the trainer's own steps read (windows and their samples, or a token
            file laid out as streams).
        record: more entries for the training record.
    """

    vocabulary: Vocabulary
    layout: Layout
    spec: ModelSpec
    window_length: int
    samples: int
    corpus: dict[str, Any]
    corpus_data: Any
    strategy: Any
    step_rows: int
    time_steps: int | None
    material: Any
    record: dict[str, Any] = field(default_factory=dict)


@dataclass
class Run:
    """What the prepare stage hands the train and finish stages: plain data, no code.

    Attributes:
        data: what the data step prepared (vocabulary, layout, network spec, corpus, ...).
        network: the Keras network being trained.
        driver: the :class:`~seqkit.engine.driver.Driver` that trains it (``.model``,
            ``.optimizer``, ``.state_variables``: what a checkpoint saves).
        feed: what the training steps read (:mod:`seqkit.engine.feeds`).
        validation: what is scored after every epoch, or None.
        steps_per_epoch: optimizer steps per epoch.
        policy: the device policy the network trains under.
    """

    data: Prepared
    network: keras.Model
    driver: Driver
    feed: Feed
    validation: Feed | None
    steps_per_epoch: int
    policy: DevicePolicy
