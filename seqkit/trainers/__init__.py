"""Trainers: stateless, in-batch and stateful LSTM training.

>>> from seqkit.trainers import StatelessTrainer, InBatchTrainer, StatefulTrainer
>>> StatefulTrainer(reset="every:3").reset
'every:3'
"""

from seqkit.trainers.base import FitResult, History, RandomWindows, Trainer
from seqkit.trainers.stateful import StatefulTrainer, stream_indices
from seqkit.trainers.stateless import InBatchTrainer, StatelessTrainer
from seqkit.trainers.stream import StreamTrainer

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
    "stream_indices",
]
