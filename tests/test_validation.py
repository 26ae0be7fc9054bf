"""Specification of held-out evaluation: disjoint splits, validation logs, early stopping, stream scoring."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

import seqkit
from seqkit.datasets import Corpus
from seqkit.engine.plans import stream_segments
from seqkit.errors import ConfigurationError, DataError
from seqkit.splits import holdout_split
from seqkit.streams import StreamLayout
from seqkit.trainers import StatefulTrainer, StatelessTrainer, StreamTrainer

# Every token unique: a window's tokens say exactly which positions it read.
DOCUMENTS = [[f"d{d}t{t}" for t in range(length)] for d, length in enumerate((60, 45, 80))]
CORPUS = Corpus(tuple(tuple(document) for document in DOCUMENTS), "word", "unique")
VOCABULARY = CORPUS.vocabulary()


def _window_tokens(windows) -> list[set[str]]:
    windows = windows.materialize() if hasattr(windows, "materialize") else windows
    return [
        {VOCABULARY.id_to_token(int(i)) for i in row if i >= 0} | {VOCABULARY.id_to_token(int(target))}
        for row, target in zip(windows.inputs, windows.targets)
    ]


def _assert_disjoint_and_uncut(training_windows, held_out_windows, training, held_out):
    training_tokens = {token for sequence in training.sequences for token in sequence}
    held_out_tokens = {token for sequence in held_out.sequences for token in sequence}
    assert not training_tokens & held_out_tokens
    for window in _window_tokens(training_windows):
        assert window <= training_tokens  # no training window reads across the cut
    for window in _window_tokens(held_out_windows):
        assert window <= held_out_tokens
    assert not set(map(frozenset, _window_tokens(training_windows))) & set(map(frozenset, _window_tokens(held_out_windows)))


def test_the_split_cuts_every_sequence_at_the_same_fraction():
    training, held_out = holdout_split(CORPUS, 0.2)
    assert [len(s) for s in training.sequences] == [48, 36, 64]
    assert [len(s) for s in held_out.sequences] == [12, 9, 16]
    assert [a + b for a, b in zip(training.sequences, held_out.sequences)] == list(CORPUS.sequences)


@pytest.mark.parametrize(
    "trainer",
    [StatelessTrainer(window=3), StatelessTrainer(window=4, stride=2), StatefulTrainer(window=2)],
    ids=["stateless", "stateless-stride-2", "stateful"],
)
def test_window_trainers_training_and_validation_windows_are_disjoint(trainer):
    training, held_out = holdout_split(CORPUS, 0.25)
    _assert_disjoint_and_uncut(
        trainer.training_windows(training, VOCABULARY), trainer.training_windows(held_out, VOCABULARY), training, held_out
    )


def test_stream_training_segments_and_validation_segments_are_disjoint():
    training, held_out = holdout_split(CORPUS, 0.25)
    ids = np.concatenate([VOCABULARY.encode_array(s) for s in training.sequences])
    layout = StreamLayout(len(ids), streams=2, segment_length=8)
    read = {int(position) for start in layout.segment_starts().ravel() for position in range(start, start + 9)}
    training_tokens = {VOCABULARY.id_to_token(int(ids[p])) for p in read}
    assert training_tokens <= {token for sequence in training.sequences for token in sequence}
    held_ids = np.concatenate([VOCABULARY.encode_array(s) for s in held_out.sequences])
    starts = np.cumsum([0] + [len(s) for s in held_out.sequences[:-1]])
    segments = stream_segments(held_ids, starts, streams=2, segment_length=8)
    scored = {VOCABULARY.id_to_token(int(t)) for t, w in zip(segments.targets.ravel(), segments.weights.ravel()) if w}
    read_held = {VOCABULARY.id_to_token(int(i)) for i in segments.inputs.ravel()} - {VOCABULARY.id_to_token(0)}
    assert not (scored | read_held) & training_tokens
    # every held-out token but the first of each document is scored exactly once
    assert segments.tokens == len(held_ids) - len(held_out.sequences)
    assert len(scored) == segments.tokens


@pytest.mark.parametrize(
    "trainer",
    [
        StatelessTrainer(window=3, units=8, epochs=3, batch_size=8),
        StatefulTrainer(units=8, epochs=3, batch_size=2),
        StreamTrainer(window=8, batch_size=2, units=8, embedding_dim=4, epochs=3),
    ],
    ids=["stateless", "stateful", "stream"],
)
@pytest.mark.slow
def test_a_fraction_is_the_same_as_the_held_out_corpus_given(trainer):
    _, by_fraction = trainer.fit(CORPUS, validation=0.25)
    training, held_out = holdout_split(CORPUS, 0.25)
    _, by_corpus = trainer.fit(training, vocabulary=VOCABULARY, validation=held_out)
    assert len(by_fraction.val_loss) == 3 and by_fraction.val_loss == by_corpus.val_loss
    assert by_fraction.loss == by_corpus.loss


def test_validation_figures_are_in_the_history_and_the_logs():
    seen = []
    _, history = StatelessTrainer(window=3, units=8, epochs=2).fit(
        seqkit.alphabet(), validation=seqkit.alphabet(),
        callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(sorted(logs)))],
    )
    assert seen[0] == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert history.val_bits_per_token == [value / math.log(2) for value in history.val_loss]
    assert history.val_perplexity == [math.exp(value) for value in history.val_loss]


def test_validation_leaves_stateful_training_unchanged():
    trainer = StatefulTrainer(units=8, epochs=4, batch_size=2, reset="never")
    plain_model, plain = trainer.fit(seqkit.alphabet())
    validated_model, validated = trainer.fit(seqkit.alphabet(), validation=seqkit.alphabet())
    assert plain.loss == validated.loss
    for a, b in zip(plain_model.network.get_weights(), validated_model.network.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_keras_early_stopping_on_val_loss_stops_and_restores_the_best_weights():
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=1, min_delta=10.0, restore_best_weights=True)
    _, history = StatelessTrainer(window=3, units=8, epochs=20).fit(
        seqkit.alphabet(), validation=seqkit.alphabet(), callbacks=[stopper]
    )
    assert history.epochs == 2 and stopper.stopped_epoch == 1 and stopper.best_epoch == 0


def test_a_fraction_that_leaves_nothing_is_refused():
    with pytest.raises(DataError) as error:
        StatelessTrainer(window=3).fit("ABCDE", validation=0.1)
    assert str(error.value).startswith(
        "Holding out 0.1 of each sequence of 'text' (5 tokens) leaves no held-out piece of at least 4 tokens."
    )


def test_every_held_out_piece_holds_a_window_of_the_trainer():
    """With window 3, a piece of 3 tokens has no window and its target: it is not held out."""
    training, _, held_out = StatelessTrainer(window=3).split(seqkit.alphabet(), 0.2)
    assert [len(s) for s in held_out.sequences] == [6] and [len(s) for s in training.sequences] == [20]
    model, history = StatelessTrainer(window=3, units=4, epochs=1).fit(seqkit.alphabet(), validation=0.2)
    assert len(history.val_loss) == 1
    with pytest.raises(DataError, match="leaves no held-out piece of at least 4 tokens"):
        StatelessTrainer(window=3, units=4, epochs=1).fit(seqkit.alphabet(), validation=0.1)


def test_sampling_during_training_refuses_what_it_cannot_generate_before_training():
    from seqkit.callbacks import SampleText

    with pytest.raises(ConfigurationError, match="generate needs a stateful model that reads one token per step"):
        StatefulTrainer(window=2, units=4, epochs=50).fit(seqkit.alphabet(), callbacks=[SampleText(10, "AB")])
    with pytest.raises(ConfigurationError, match="The 'top_p' parameter of SampleText must be"):
        SampleText(1, "A", top_p=1.5)


@pytest.mark.slow
def test_a_resume_that_adds_validation_keeps_the_epochs_aligned(tmp_path):
    StatelessTrainer(window=3, units=4, epochs=2, checkpoint_dir=tmp_path).fit(seqkit.alphabet())
    _, history = StatelessTrainer(window=3, units=4, epochs=4, checkpoint_dir=tmp_path).fit(
        seqkit.alphabet(), validation=seqkit.alphabet(), resume=True
    )
    assert len(history.val_loss) == len(history.loss) == 4
    assert all(math.isnan(value) for value in history.val_loss[:2])
    assert all(math.isfinite(value) for value in history.val_loss[2:])


@pytest.mark.parametrize("value", [0.0, 1.0, True, float("nan")])
def test_a_bad_validation_fraction_is_refused(value):
    with pytest.raises(ConfigurationError, match="The 'validation' parameter of StatelessTrainer.fit must be"):
        StatelessTrainer(window=3, epochs=1).fit(seqkit.alphabet(), validation=value)


@pytest.mark.slow
def test_a_stream_model_scores_every_held_out_token_as_in_training():
    trainer = StreamTrainer(window=8, batch_size=2, units=8, embedding_dim=4, epochs=2)
    model, history = trainer.fit(CORPUS, validation=0.25)
    _, held_out = holdout_split(CORPUS, 0.25)
    scores = trainer.score(model, held_out)
    assert scores["tokens"] == sum(len(s) for s in held_out.sequences) - len(held_out.sequences)
    assert scores["loss"] == pytest.approx(history.val_loss[-1], rel=1e-6)
    assert scores["bits_per_token"] == pytest.approx(scores["loss"] / math.log(2))


@pytest.mark.slow
def test_a_megabyte_of_the_standard_library():
    """docs/validation.md's full run: ~1 MB to train, ~100 KB held out (a tenth of every file).

    Recorded on the development machine (2-core Xeon, TF 2.21): see the page for the figures.
    """
    from seqkit.corpora import python_stdlib

    corpus = python_stdlib(max_bytes=1_150_000)
    trainer = StreamTrainer(window=64, batch_size=32, units=128, embedding_dim=16, epochs=25, learning_rate=0.003)
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    model, history = trainer.fit(corpus, validation=0.1, callbacks=[stop])
    best = int(np.argmin(history.val_loss))
    print(f"epochs {history.epochs}, best {best + 1}, bits/char train {history.bits_per_token[best]:.3f} "
          f"held out {history.val_bits_per_token[best]:.3f}")
    # Recorded (seqkit's kernel in 2 shards on 2 cores): stopped after 22 epochs, best epoch 20,
    # 1.377 bits/char training, 1.869 held out. In one program (before shards): 21, 19, 1.391, 1.865.
    # With Keras's layers (kernel=False, seqkit 0.2): 17, 15, 1.421, 1.870.
    assert history.epochs < 25 and stop.stopped_epoch == history.epochs - 1 and best == stop.best_epoch
    assert history.val_bits_per_token[best] == pytest.approx(1.870, abs=0.05)
    assert history.bits_per_token[best] < history.val_bits_per_token[best]


@pytest.mark.slow  # 2-4 s on 2 cores; CI runs it
def test_a_token_file_takes_held_out_text_at_its_own_level_but_no_fraction(tmp_path):
    from seqkit.streams import encode_corpus

    words = Corpus.from_text("do re mi fa so la ti " * 30, level="word")
    tokens = encode_corpus(words, words.vocabulary(), tmp_path / "words.ids")
    trainer = StreamTrainer(window=4, batch_size=2, units=4, embedding_dim=4, epochs=1)
    _, history = trainer.fit(tokens, validation="do re mi fa so la ti do re mi")
    assert len(history.val_loss) == 1
    with pytest.raises(ConfigurationError, match="holds out a fraction of an in-memory corpus only"):
        trainer.fit(tokens, validation=0.1)
