"""Stateless and in-batch training: each window is an independent sample."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from seqkit.engine import EpochPlan, shuffled_plan
from seqkit.trainers.base import Trainer
from seqkit.windows import Windows


class StatelessTrainer(Trainer):
    """Each window is an independent sample; the LSTM state starts at zero for every one.

    Batches are drawn as Keras ``fit`` draws them: shuffled each epoch (unless
    ``shuffle=False``), ``ceil(n / batch_size)`` optimizer steps, the last partial.

    With ``strategy`` the epoch runs under ``tf.distribute``: every step's batch is split
    over the replicas (padded with empty slots when it does not split evenly) and the
    gradients are all-reduced, which matches one device at the same batch size up to
    floating-point rounding. Distributed steps are not XLA-compiled.

    Args:
        shuffle: reshuffle the windows every epoch. Defaults to True (Keras's default).
        strategy: None or ``"default"`` (one device), ``"mirrored"``, ``"multi-worker"``
            (reads ``TF_CONFIG``) or a :class:`tf.distribute.Strategy`. Defaults to None.
        **kwargs: the hyperparameters of :class:`~seqkit.trainers.base.Trainer`.

    >>> from seqkit import alphabet
    >>> trainer = StatelessTrainer(window=3, units=8, epochs=2)
    >>> model, history = trainer.fit(alphabet())
    >>> history.epochs, len(model.predict_next("ABC", top_k=3))
    (2, 3)
    """

    def __init__(self, *, shuffle: bool = True, strategy: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shuffle = shuffle
        self.strategy = strategy

    def _validate(self) -> None:
        super()._validate()
        from seqkit.distribute import check_strategy

        check_strategy(type(self).__name__, self.strategy)

    def get_params(self) -> dict[str, Any]:
        """The hyperparameters; ``strategy`` is left out: where a model trains is not what it is."""
        params = super().get_params()
        params.pop("strategy", None)
        return params

    def _distribution(self) -> Any:
        if self.strategy is None or self.strategy == "default":
            return None
        from seqkit.distribute import resolve_strategy

        return resolve_strategy(self.strategy)

    def _network_batch_size(self, windows: Windows) -> int | None:
        return None

    def _batch_size(self, windows: Windows) -> int:
        return min(int(self.batch_size), len(windows))

    def _plans(self, windows: Windows) -> Callable[[int], EpochPlan]:
        batch = self._batch_size(windows)
        count, seed, shuffle = len(windows), int(self.seed), bool(self.shuffle)
        if not shuffle:
            fixed = shuffled_plan(count, batch, seed=seed, epoch=0, shuffle=False)
            return lambda epoch: fixed
        return lambda epoch: shuffled_plan(count, batch, seed=seed, epoch=epoch)


class InBatchTrainer(StatelessTrainer):
    """The whole ordered dataset as one unshuffled batch: one optimizer step per epoch.

    The tutorial's "LSTM state within a batch" experiment. Folklore says the
    samples of one batch pass state to each other; in a stateless Keras LSTM
    they do not (every row starts from a zero state), which the tests and the
    docs show: what this trainer gains comes from full-batch gradient steps.

    Args:
        **kwargs: the hyperparameters of :class:`~seqkit.trainers.base.Trainer`;
            ``batch_size`` and ``shuffle`` are fixed by the strategy.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("shuffle", None)
        kwargs.setdefault("epochs", 5000)
        kwargs.setdefault("units", 16)
        super().__init__(shuffle=False, **kwargs)

    def get_params(self) -> dict[str, Any]:
        params = super().get_params()
        params.pop("shuffle", None)
        return params

    def _batch_size(self, windows: Windows) -> int:
        return len(windows)
