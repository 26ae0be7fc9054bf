"""Trainers: stateless, in-batch, stateful and stream LSTM training.

>>> from seqkit.trainers import StatelessTrainer, InBatchTrainer, StatefulTrainer
>>> StatefulTrainer(reset="every:3").reset
'every:3'
"""

from seqkit.engine.plans import stream_indices
from seqkit.trainers.base import FitResult, History, RandomWindows, Trainer
from seqkit.trainers.stateful import StatefulTrainer
from seqkit.trainers.stateless import InBatchTrainer, StatelessTrainer
from seqkit.trainers.stream import StreamTrainer
from seqkit.trainers.windowed import WindowTrainer

TRAINERS: dict[str, type[Trainer]] = {
    "stateless": StatelessTrainer,
    "in-batch": InBatchTrainer,
    "stateful": StatefulTrainer,
    "stream": StreamTrainer,
}

__all__ = [
    "TRAINERS",
    "FitResult",
    "History",
    "InBatchTrainer",
    "RandomWindows",
    "StatefulTrainer",
    "StatelessTrainer",
    "StreamTrainer",
    "Trainer",
    "WindowTrainer",
    "stream_indices",
]
