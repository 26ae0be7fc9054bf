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
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import keras
import numpy as np

from seqkit.backends import keras_backend
from seqkit.history import History
from seqkit.trainers.stages import Prepared, Run
from seqkit.checks import check_bool, check_float, check_int, check_optional_int
from seqkit.datasets import Corpus
from seqkit.engine.policy import DevicePolicy, choose_policy, warn_about_precision
from seqkit.errors import ConfigurationError, parameter_error
from seqkit.layouts import Layout
from seqkit.models import ModelSpec, check_cell
from seqkit.schedules import WarmupCosine, parse_schedule
from seqkit.subword import SUBWORD_LEVELS
from seqkit.sequence_model import SequenceModel
from seqkit.trainers.continuation import Continuation, continuation, load_weights
from seqkit.trainers.holdout import CorpusLike, HeldOut, as_corpus
from seqkit.vocab import Vocabulary

if TYPE_CHECKING:
    from seqkit.engine.driver import Driver
    from seqkit.engine.feeds import Feed

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


class Trainer(HeldOut, abc.ABC):
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
        """The parameters that define the trained model, as JSON (the training record's); while
        fine-tuning, the network's as the model continued fixes them."""
        return {
            name: jsonable(value) for name, value in self._effective_params().items() if name not in self._not_recorded
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
        check_cell(owner, self.cell)
        if self.clip_norm is not None:
            check_float(owner, "clip_norm", self.clip_norm, low=0.0, low_inclusive=False)
        try:
            parse_schedule(self.lr_schedule)
        except ConfigurationError as error:
            raise ConfigurationError(f"{owner}: {error}") from None

    def _effective_params(self) -> dict[str, Any]:
        """The parameters the network is built with: the trainer's, with what the model it continues
        fixes (``fit(init_from=...)``: cell, size, layout, encoding) in their place."""
        params = self.get_params()
        continued = getattr(self, "init_from_", None)
        if continued is not None:
            params.update({name: value for name, value in continued.values.items() if name in params})
        return params

    def _model_spec(self, *, masked: bool = False) -> ModelSpec:
        """The network's hyperparameters, from :meth:`_effective_params`."""
        params = self._effective_params()
        return ModelSpec(
            units=int(params["units"]), layers=int(params["layers"]), dropout=float(params["dropout"]),
            embedding_dim=int(params["embedding_dim"]), cell=str(params["cell"]), masked=masked,
        )

    def _optimizer_settings(self) -> dict[str, Any]:
        """What the driver's Adam is built with: the learning rate (a schedule for ``lr_schedule="cosine"``)
        and the clipping norm."""
        return {
            "learning_rate": parse_schedule(self.lr_schedule).learning_rate(float(self.learning_rate)),
            "clip_norm": None if self.clip_norm is None else float(self.clip_norm),
        }

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
            if getattr(self, "init_from_", None) is not None:  # fine-tuning: the weights of the model continued
                one_hot_steps = (prepared.layout.name, prepared.layout.encoding) == ("timesteps", "onehot")
                load_weights(network, self.init_from_.model.network, grown_inputs=one_hot_steps)
        driver = self._driver(prepared, policy, network)
        feed, validation_feed, steps_per_epoch = self._feeds(prepared, driver)
        if isinstance(driver.schedule, WarmupCosine):  # the decay ends with the run's last step
            driver.schedule.set_total_steps(int(self.epochs) * steps_per_epoch)
        return Run(
            data=prepared, network=network, driver=driver, feed=feed, validation=validation_feed,
            steps_per_epoch=steps_per_epoch, policy=policy,
        )

    @abc.abstractmethod
    def _data(self, data: Any, vocabulary: Vocabulary | None, validation: Any, scope: contextlib.ExitStack) -> Prepared:
        """The training data and the held-out data, as this trainer reads them."""

    def _policy(self, prepared: Prepared) -> DevicePolicy:
        """The device policy for the network (:func:`~seqkit.engine.policy.choose_policy`); seqkit's
        kernel computes LSTMs only, so a GRU trains through Keras's layer."""
        kernel = getattr(self, "kernel", False)
        if prepared.spec.cell != "lstm":
            if kernel:
                raise ConfigurationError(
                    f"{type(self).__name__} cannot train a {prepared.spec.cell.upper()} with seqkit's LSTM kernel "
                    "(kernel=True): the kernel computes LSTMs only. Leave kernel=None, or use cell='lstm'."
                )
            kernel = False
        from seqkit.engine.driver import is_distributing

        if self.clip_norm is not None and is_distributing(prepared.strategy):
            raise ConfigurationError(
                f"{type(self).__name__} cannot clip gradients (clip_norm={self.clip_norm}) under a distributing "
                "strategy: Keras clips each replica's gradients before they are summed, not their global norm. "
                "Train without the strategy, or without clip_norm."
            )
        policy = choose_policy(
            units=prepared.spec.units, batch_size=prepared.step_rows, masked=prepared.spec.masked,
            distributed=is_distributing(prepared.strategy), jit_compile=self.jit_compile, precision=self.precision,
            owner=type(self).__name__, steps=prepared.time_steps, kernel=kernel,
            dropout=prepared.spec.dropout > 0,
        )
        warn_about_precision(self.precision, policy)
        return policy

    @abc.abstractmethod
    def _network(self, prepared: Prepared, policy: DevicePolicy) -> keras.Model:
        """The network to train (built seeded, under the strategy's scope)."""

    @abc.abstractmethod
    def _driver(self, prepared: Prepared, policy: DevicePolicy, network: keras.Model) -> Driver:
        """The :class:`~seqkit.engine.driver.Driver` that trains ``network``."""

    @abc.abstractmethod
    def _feeds(self, prepared: Prepared, driver: Driver) -> tuple[Feed, Feed | None, int]:
        """What the training steps read, what is scored after every epoch (or None), and the steps per epoch."""

    @abc.abstractmethod
    def _predictor(self, run: Run, *, during_training: bool = False) -> keras.Model:
        """The network that predicts: after training (the trained weights in it), or a copy
        with the current weights for callbacks that generate during training."""

    def _train(
        self, run: Run, callbacks: Sequence[keras.callbacks.Callback], *, resume: bool, verbose: int
    ) -> dict[str, list[float]]:
        """Stage 2: train the epochs asked, with the callbacks and any checkpoint (every trainer the same way)."""
        all_callbacks = [*self.callbacks, *callbacks, *parse_schedule(self.lr_schedule).callbacks(
            held_out=run.validation is not None, rate=float(self.learning_rate),
        )]
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
        from seqkit.checkpoint import checkpoint_for

        hyperparameters = self.hyperparameters()
        if hyperparameters.get("precision") == "auto":  # what a run trains in is what must match on resume
            hyperparameters["precision"] = run.policy.precision
        checkpoint = checkpoint_for(
            trainer=type(self).__name__, hyperparameters=hyperparameters, directory=self.checkpoint_dir,
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
        if getattr(self, "init_from_", None) is not None:
            record["init_from"] = self.init_from_.describe()
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
        test: float | CorpusLike | None = None,
        init_from: SequenceModel | None = None,
        extend_vocabulary: bool = False,
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
            test: held-out data never seen in training nor in model selection, scored once
                at the end (:meth:`SequenceModel.score <seqkit.sequence_model.SequenceModel.score>`)
                into the model's record (``model.spec["test"]``) and ``self.test_score_``: a
                fraction in ``(0, 1)`` cut from the end of each sequence of ``data`` *before*
                ``validation`` cuts its own from what is left (so the three splits are, in
                each document, training | validation | test), or a separate corpus. Defaults
                to None.
            init_from: a fitted model to continue (fine-tuning, char-rnn's ``init_from``):
                the network starts from its weights, with its vocabulary, cell, size, layout
                and encoding (:mod:`seqkit.trainers.continuation`). Defaults to None: a new network.
            extend_vocabulary: with ``init_from``, let the vocabulary grow by the new tokens of
                ``data`` (the old ids and weights kept). Defaults to False: a new token is refused.
            callbacks: more Keras callbacks for this run, after the constructor's.
            resume: continue from the latest checkpoint in ``checkpoint_dir`` (from
                epoch 0 if it holds none yet). Defaults to False: a folder that
                already holds a checkpoint is refused rather than overwritten.
            verbose: 0 silent, 1 Keras's progress bar, 2 one line per epoch (as
                ``model.fit``). Defaults to 0.
        """
        self._validate()
        check_int(type(self).__name__ + ".fit", "verbose", verbose, minimum=0, maximum=2)
        self.test_score_ = None
        if isinstance(init_from, SequenceModel) and isinstance(data, str):
            data = init_from.corpus_of(data)  # a text split as the model splits text (a subword model's tokenizer)
        self.init_from_ = self._continuation(init_from, data, vocabulary, extend_vocabulary)
        if self.init_from_ is not None:
            vocabulary = self.init_from_.vocabulary
        data, vocabulary, held_out_test = self._held_out_test(data, vocabulary, test)
        with contextlib.ExitStack() as scope:
            run = self._prepare(data, vocabulary, validation, scope)
            started = time.perf_counter()
            logs = self._train(run, callbacks, resume=resume, verbose=verbose)
            seconds = time.perf_counter() - started
        result = self._finish(run, logs, seconds)
        if held_out_test is not None:
            self.test_score_ = result.model.score(held_out_test)
            result.model.spec["test"] = {"corpus": held_out_test.name, **self.test_score_.as_dict()}
        return result

    def _continuation(
        self, model: SequenceModel | None, data: Any, vocabulary: Vocabulary | None, extend: bool
    ) -> Continuation | None:
        """What fine-tuning ``model`` fixes (None without one): see :func:`~seqkit.trainers.continuation.continuation`."""
        if model is None:
            return None
        owner = type(self).__name__ + ".fit"
        if not isinstance(model, SequenceModel):
            raise parameter_error(owner, "init_from", "a fitted SequenceModel (SequenceModel.load(path))", model)
        check_bool(owner, "extend_vocabulary", extend)
        if not isinstance(data, Corpus | str | Sequence):  # a token file: its ids are its own vocabulary's
            return continuation(self, model, [], getattr(data, "vocabulary", vocabulary), extend=extend)
        corpus = as_corpus(data)
        if corpus.level != model.level and set(SUBWORD_LEVELS) & {corpus.level, model.level}:
            raise ConfigurationError(
                f"{owner} continues a model of {model.level} tokens; the data is split at the {corpus.level} level. "
                f"Give the text as a string (split as the model splits it) or a corpus at level {model.level!r}."
            )
        return continuation(self, model, corpus.sequences, vocabulary, extend=extend)


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
    set_random_seed(int(seed))
    try:
        yield
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)


def set_random_seed(seed: int) -> None:
    """``keras.utils.set_random_seed``, without importing TensorFlow on Keras's JAX backend.

    Keras's own also seeds TensorFlow wherever TensorFlow is installed, importing it. On JAX,
    what Keras draws an unseeded initializer's or seed generator's seed from is Python's
    ``random`` (``keras.random.SeedGenerator``), so seqkit seeds that, and NumPy, and nothing else.
    """
    if keras_backend() == "tensorflow":
        keras.utils.set_random_seed(seed)
        return
    random.seed(seed)
    np.random.seed(seed)


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
