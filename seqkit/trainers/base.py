"""The shared base of seqkit's trainers: ``fit`` as three stages.

A trainer follows scikit-learn's estimator rules: ``__init__`` only stores its
hyperparameters (an explicit signature with the real defaults), :meth:`Trainer.get_params`
and :meth:`Trainer.set_params` read and change them (so ``sklearn.base.clone`` works), and
:meth:`Trainer.fit` validates them and trains. ``fit`` is a skeleton of three stages, and a
subclass overrides the stage that differs, never ``fit`` itself:

1. :meth:`Trainer._prepare` — in named steps: the data (``_data``), the device policy
   (``_policy``), the network (``_network``), its driver (``_driver``) and what it is fed
   (``_feeds``), handed on as a :class:`Run`;
2. :meth:`Trainer._train` — the epochs, with the callbacks and any checkpoint;
3. :meth:`Trainer._finish` — the prediction network, the training record, the fitted
   :class:`~seqkit.sequence_model.SequenceModel` and its :class:`History`.
"""

from __future__ import annotations

from seqkit._quiet import quiet_import

quiet_import()

import abc
import contextlib
import inspect
import random
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import keras
import numpy as np

from seqkit.checkpoint import checkpoint_for
from seqkit.engine.driver import Driver, is_distributing
from seqkit.engine.feeds import Feed
from seqkit.history import History
from seqkit.trainers.stages import Prepared, Run
from seqkit.checks import check_bool, check_float, check_int, check_optional_int
from seqkit.datasets import Corpus
from seqkit.engine.policy import DevicePolicy, choose_policy
from seqkit.errors import ConfigurationError, DataError, parameter_error
from seqkit.layouts import Layout
from seqkit.sequence_model import SequenceModel
from seqkit.splits import holdout_split
from seqkit.vocab import Vocabulary

MAX_SEED = 2**32 - 1
"""The largest seed NumPy and Keras accept."""


@dataclass(frozen=True)
class RandomWindows:
    """Ask a trainer for random variable-length windows instead of sliding ones.

    Attributes:
        count: how many windows to draw.
        max_length: the longest window (``L``); shorter ones are padded and masked.
        seed: the NumPy seed of the draw. Defaults to 7 (the tutorial's).
    """

    count: int = 1000
    max_length: int = 5
    seed: int = 7


class FitResult(NamedTuple):
    """``trainer.fit(...)`` returns the fitted model and its history: ``model, history = ...``."""

    model: SequenceModel
    history: History


CorpusLike = Corpus | str | Sequence[str]


def as_corpus(data: CorpusLike) -> Corpus:
    """A :class:`Corpus` from a Corpus, a string (characters) or a list of tokens."""
    if isinstance(data, Corpus):
        return data
    if isinstance(data, str):
        return Corpus.from_text(data, level="char")
    if isinstance(data, Sequence) and all(isinstance(token, str) for token in data):
        return Corpus.from_tokens(data)
    raise DataError(
        f"Cannot train on a {type(data).__name__}: give a seqkit Corpus, a string, or a list of string tokens."
    )


def jsonable(value: Any) -> Any:
    """A hyperparameter value as JSON: RandomWindows and layouts described, NumPy ints as ints.

    >>> jsonable(RandomWindows(count=5))
    {'random': True, 'count': 5, 'max_length': 5, 'seed': 7}
    """
    if isinstance(value, RandomWindows):
        return {"random": True, "count": value.count, "max_length": value.max_length, "seed": value.seed}
    if isinstance(value, Layout):
        return value.name
    if hasattr(value, "describe"):
        return value.describe()
    if isinstance(value, np.integer):
        return int(value)
    return value


class Trainer(abc.ABC):
    """Common hyperparameters and the three-stage fit shared by every trainer.

    Subclasses declare every hyperparameter in their own ``__init__`` (scikit-learn's
    rule: explicit, with the real default, stored as given) and implement
    :meth:`_prepare`; the base validates the shared ones and runs the stages.
    """

    stateful: ClassVar[bool] = False
    """The trainer carries a state from batch to batch (its model primes before it predicts)."""
    inapplicable: ClassVar[dict[str, str]] = {}
    """Why a parameter another trainer has means nothing for this one, where a reason helps:
    the end of the sentence "``name`` does not apply to this trainer..." (see :meth:`why_not`)."""
    _not_recorded: ClassVar[tuple[str, ...]] = (
        "callbacks", "checkpoint_dir", "checkpoint_every", "checkpoint_steps", "strategy", "jit_compile",
    )
    """Parameters that say how or where a run trains, not what model it makes."""

    # Hyperparameters ----------------------------------------------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return [name for name, parameter in signature.parameters.items()
                if name != "self" and parameter.kind is inspect.Parameter.KEYWORD_ONLY]

    @classmethod
    def why_not(cls, name: str) -> str | None:
        """None when ``name`` is a parameter of this trainer, else the end of the sentence saying why
        it does not apply (``"."`` where no reason is declared).

        >>> from seqkit.trainers import InBatchTrainer
        >>> InBatchTrainer.why_not("units") is None, InBatchTrainer.why_not("batch_size")
        (True, ': it trains on the whole dataset as one batch.')
        """
        if name in cls._param_names():
            return None
        return cls.inapplicable.get(name, ".")

    def _store(self, arguments: dict[str, Any]) -> None:
        """Store ``__init__``'s arguments under their own names, and nothing else (scikit-learn's rule)."""
        for name in self._param_names():
            setattr(self, name, arguments[name])

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Every parameter of ``__init__`` with its value (scikit-learn's protocol).

        Args:
            deep: also the parameters of nested estimators; seqkit's trainers hold
                none, so it changes nothing. Defaults to True.
        """
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Trainer:
        """Set parameters by name (scikit-learn's protocol); returns the trainer.

        >>> from seqkit.trainers import StatelessTrainer
        >>> StatelessTrainer().set_params(units=8).units
        8
        >>> StatelessTrainer().set_params(unit=8)
        Traceback (most recent call last):
        ...
        seqkit.errors.ConfigurationError: StatelessTrainer has no parameter 'unit'; its parameters are ...
        """
        names = self._param_names()
        for name, value in params.items():
            if name not in names:
                raise ConfigurationError(
                    f"{type(self).__name__} has no parameter '{name}'; its parameters are {', '.join(names)}."
                )
            setattr(self, name, value)
        return self

    def hyperparameters(self) -> dict[str, Any]:
        """The parameters that define the trained model, as JSON (the training record's)."""
        return {
            name: jsonable(value) for name, value in self.get_params().items() if name not in self._not_recorded
        }

    def __repr__(self) -> str:
        """The class and the parameters that differ from their defaults, as scikit-learn shows them.

        >>> from seqkit.trainers import StatefulTrainer
        >>> StatefulTrainer(units=50, reset="every:5")
        StatefulTrainer(units=50, reset='every:5')
        """
        defaults = {name: parameter.default for name, parameter in inspect.signature(type(self).__init__).parameters.items()}
        shown = ", ".join(
            f"{name}={value!r}" for name, value in self.get_params().items()
            if not (type(value) is type(defaults.get(name)) and value == defaults.get(name))
        )
        return f"{type(self).__name__}({shown})"

    def _validate(self) -> None:
        """Refuse a bad shared hyperparameter with the one-shape message."""
        owner = type(self).__name__
        for name in ("units", "layers", "embedding_dim", "epochs", "checkpoint_every"):
            check_int(owner, name, getattr(self, name))
        check_float(owner, "dropout", self.dropout, low=0.0, high=1.0, high_inclusive=False)
        check_float(owner, "learning_rate", self.learning_rate, low=0.0, low_inclusive=False)
        check_int(owner, "seed", self.seed, minimum=0, maximum=MAX_SEED)
        if self.checkpoint_dir is not None and not isinstance(self.checkpoint_dir, str | os.PathLike):
            raise parameter_error(owner, "checkpoint_dir", "None or a folder path", self.checkpoint_dir)
        if self.jit_compile is not None:
            check_bool(owner, "jit_compile", self.jit_compile)
        check_optional_int(owner, "checkpoint_steps", self.checkpoint_steps)

    # The stages ---------------------------------------------------------------------
    def _prepare(
        self, data: Any, vocabulary: Vocabulary | None, validation: Any, scope: contextlib.ExitStack
    ) -> Run:
        """Stage 1, in named steps a trainer overrides: the data, the device policy, the network
        (built seeded, under the strategy), the driver, and what it is fed (temporary files go on
        ``scope``)."""
        prepared = self._data(data, vocabulary, validation, scope)
        policy = self._policy(prepared)
        strategy = prepared.strategy
        with seeded(int(self.seed)), contextlib.nullcontext() if strategy is None else strategy.scope():
            network = self._network(prepared, policy)
        driver = self._driver(prepared, policy, network)
        feed, validation_feed, steps_per_epoch = self._feeds(prepared, driver)
        return Run(
            data=prepared, network=network, driver=driver, feed=feed, validation=validation_feed,
            steps_per_epoch=steps_per_epoch, policy=policy,
        )

    @abc.abstractmethod
    def _data(self, data: Any, vocabulary: Vocabulary | None, validation: Any, scope: contextlib.ExitStack) -> Prepared:
        """The training data and the held-out data, as this trainer reads them."""

    def _policy(self, prepared: Prepared) -> DevicePolicy:
        """The device policy for the network (:func:`~seqkit.engine.policy.choose_policy`)."""
        return choose_policy(
            units=prepared.spec.units, batch_size=prepared.step_rows, masked=prepared.spec.masked,
            distributed=is_distributing(prepared.strategy), jit_compile=self.jit_compile, precision=self.precision,
            owner=type(self).__name__, steps=prepared.time_steps, kernel=getattr(self, "kernel", False),
            dropout=prepared.spec.dropout > 0,
        )

    @abc.abstractmethod
    def _network(self, prepared: Prepared, policy: DevicePolicy) -> keras.Model:
        """The network to train (built seeded, under the strategy's scope)."""

    @abc.abstractmethod
    def _driver(self, prepared: Prepared, policy: DevicePolicy, network: keras.Model) -> Driver:
        """The :class:`~seqkit.engine.driver.Driver` that trains ``network``."""

    @abc.abstractmethod
    def _feeds(self, prepared: Prepared, driver: Driver) -> tuple[Feed, Feed | None, int]:
        """What the training steps read, what is scored after every epoch (or None), and the steps per epoch."""

    def _min_piece(self) -> int:
        """The fewest tokens a held-out or training piece needs: one window and its target."""
        return 2

    def split(
        self, data: Any, validation: Any, vocabulary: Vocabulary | None = None
    ) -> tuple[Corpus, Vocabulary, Corpus | None]:
        """The training corpus, its vocabulary and the held-out corpus, as ``fit`` takes them.

        A fraction cuts each sequence of ``data`` (:func:`seqkit.splits.holdout_split`, every
        piece long enough for one of this trainer's windows) after the vocabulary is taken
        from all of it; a corpus is held out as given (a string is split at the training
        corpus's level).
        """
        corpus = as_corpus(data)
        vocabulary = vocabulary or corpus.vocabulary()
        if validation is None:
            return corpus, vocabulary, None
        if isinstance(validation, float | int) and not isinstance(validation, bool):
            fraction = check_float(
                type(self).__name__ + ".fit", "validation", validation, low=0.0, high=1.0,
                low_inclusive=False, high_inclusive=False,
            )
            training, held_out = holdout_split(corpus, fraction, min_tokens=self._min_piece())
            return training, vocabulary, held_out
        if isinstance(validation, str):
            return corpus, vocabulary, Corpus.from_text(validation, level=corpus.level, name="validation text")
        if isinstance(validation, Corpus) or (
            isinstance(validation, Sequence) and all(isinstance(token, str) for token in validation)
        ):
            return corpus, vocabulary, as_corpus(validation)
        raise parameter_error(
            type(self).__name__ + ".fit", "validation", "None, a fraction in (0, 1) or a corpus", validation
        )

    @abc.abstractmethod
    def _predictor(self, run: Run, *, during_training: bool = False) -> keras.Model:
        """The network that predicts: after training (the trained weights in it), or a copy
        with the current weights for callbacks that generate during training."""

    def _train(
        self, run: Run, callbacks: Sequence[keras.callbacks.Callback], *, resume: bool, verbose: int
    ) -> dict[str, list[float]]:
        """Stage 2: train the epochs asked, with the callbacks and any checkpoint (every trainer the same way)."""
        all_callbacks = [*self.callbacks, *callbacks]
        for callback in all_callbacks:  # callbacks that generate need the model as trained so far
            if hasattr(callback, "bind"):
                callback.bind(lambda: SequenceModel(
                    self._predictor(run, during_training=True), run.data.vocabulary, run.data.layout,
                    window_length=run.data.window_length, spec={"model": run.data.spec.get_config()},
                ))
        self.initial_epoch_ = 0
        settings = {"epochs": int(self.epochs), "verbose": verbose, "validation": run.validation}
        if self.checkpoint_dir is None:
            return run.driver.train(run.feed, callbacks=all_callbacks, **settings)
        checkpoint = checkpoint_for(
            trainer=type(self).__name__, hyperparameters=self.hyperparameters(), directory=self.checkpoint_dir,
            every=int(self.checkpoint_every), epochs=int(self.epochs), loop=run.driver, corpus=run.data.corpus_data,
            vocabulary=run.data.vocabulary, resume=resume, steps_per_epoch=run.steps_per_epoch,
        )
        self.initial_epoch_ = checkpoint.initial_epoch
        with checkpoint:  # the folder's lock is released however training ends
            run.driver.train(
                run.feed, callbacks=[*all_callbacks, checkpoint], start=checkpoint.position,
                every_steps=self.checkpoint_steps, **settings,
            )
        return checkpoint.history  # the epochs before the restart too

    def _finish(self, run: Run, logs: dict[str, list[float]], seconds: float) -> FitResult:
        """Stage 3: the prediction network, the record, the fitted model."""
        history = History(
            loss=[float(value) for value in logs.get("loss", [])],
            accuracy=[float(value) for value in logs.get("accuracy", [])],
            seconds=seconds,
            val_loss=[float(value) for value in logs.get("val_loss", [])],
            val_accuracy=[float(value) for value in logs.get("val_accuracy", [])],
        )
        history.steps = history.epochs * run.steps_per_epoch
        record = {
            "trainer": type(self).__name__,
            "hyperparameters": self.hyperparameters(),
            "layout": run.data.layout.get_config(),
            "model": run.data.spec.get_config(),
            "window_length": run.data.window_length,
            "samples": run.data.samples,
            "corpus": run.data.corpus,
            **run.data.record,
            "policy": run.policy.get_config(),
        }
        recorded = {"loss": history.loss, "accuracy": history.accuracy}
        if history.val_loss:
            recorded.update(val_loss=history.val_loss, val_accuracy=history.val_accuracy)
        model = SequenceModel(
            self._predictor(run), run.data.vocabulary, run.data.layout, window_length=run.data.window_length, spec=record,
            history=recorded,
        )
        self.model_, self.history_, self.network_ = model, history, run.network
        return FitResult(model, history)

    def fit(
        self,
        data: Any,
        *,
        vocabulary: Vocabulary | None = None,
        validation: float | CorpusLike | None = None,
        callbacks: Sequence[keras.callbacks.Callback] = (),
        resume: bool = False,
        verbose: int = 0,
    ) -> FitResult:
        """Train on ``data`` and return the fitted model with its history.

        Args:
            data: a :class:`~seqkit.datasets.Corpus`, a string (characters) or a token list.
            vocabulary: the id mapping; defaults to the corpus's distinct tokens in order.
            validation: held-out data scored after every epoch (``val_loss`` and
                ``val_accuracy`` in the history and in the callbacks' logs, so
                ``keras.callbacks.EarlyStopping(monitor="val_loss")`` works): a fraction in
                ``(0, 1)`` cut from the end of each sequence of ``data`` (no window crosses
                the cut, none is on both sides), or a separate corpus. Defaults to None.
            callbacks: more Keras callbacks for this run, after the constructor's.
            resume: continue from the latest checkpoint in ``checkpoint_dir`` (from
                epoch 0 if it holds none yet). Defaults to False: a folder that
                already holds a checkpoint is refused rather than overwritten.
            verbose: 0 silent, 1 Keras's progress bar, 2 one line per epoch (as
                ``model.fit``). Defaults to 0.
        """
        self._validate()
        check_int(type(self).__name__ + ".fit", "verbose", verbose, minimum=0, maximum=2)
        with contextlib.ExitStack() as scope:
            run = self._prepare(data, vocabulary, validation, scope)
            started = time.perf_counter()
            logs = self._train(run, callbacks, resume=resume, verbose=verbose)
            seconds = time.perf_counter() - started
        return self._finish(run, logs, seconds)


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed Keras and TensorFlow for what is built inside, and leave NumPy's and Python's
    global generators as they were (a library does not reseed its caller's generators).

    >>> import numpy as np
    >>> np.random.seed(1); expected = np.random.random()
    >>> np.random.seed(1)
    >>> with seeded(7):
    ...     pass
    >>> np.random.random() == expected
    True
    """
    numpy_state, python_state = np.random.get_state(), random.getstate()
    keras.utils.set_random_seed(int(seed))
    try:
        yield
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)


def copy_weights(source: keras.Model, target: keras.Model) -> keras.Model:
    """``target`` with the weights of ``source``'s layers of the same names; returns it."""
    for layer in target.layers:
        if layer.weights:
            layer.set_weights(source.get_layer(layer.name).get_weights())
    return target


__all__ = [
    "MAX_SEED",
    "CorpusLike",
    "FitResult",
    "History",
    "RandomWindows",
    "Prepared",
    "Run",
    "Trainer",
    "as_corpus",
    "copy_weights",
    "seeded",
    "jsonable",
]
