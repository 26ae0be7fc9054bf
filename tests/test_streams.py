"""Specification of long-corpus training: window indexes, token files, streams, StreamTrainer."""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest

from seqkit.corpora import python_stdlib, python_stdlib_after, python_stdlib_files, sample_text
from seqkit.datasets import Corpus
from seqkit.engine import TrainingLoop, WindowedInputs, shuffled_plan
from seqkit.errors import ConfigurationError, DataError
from seqkit.layouts import Features, TimeSteps
from seqkit.models import ModelSpec, build_model, build_stream_model
from seqkit.streams import StreamLayout, encode_corpus, encode_text_files, stream_dataset, stream_resets
from seqkit.trainers import StreamTrainer
from seqkit.windows import sliding_window_index, sliding_windows


# Window indexes: the O(N) form of sliding windows ------------------------------------
@pytest.mark.parametrize(("length", "stride"), [(1, 1), (3, 1), (3, 2), (5, 3)])
def test_window_index_materializes_to_the_sliding_windows(length, stride):
    sequences = [list(range(10)), list(range(20, 27)), list(range(40, 52))]
    index = sliding_window_index(sequences, length, stride)
    expected = sliding_windows(sequences, length, stride)
    windows = index.materialize()
    for name in ("inputs", "lengths", "targets", "sequence_ids"):
        np.testing.assert_array_equal(getattr(windows, name), getattr(expected, name))
    np.testing.assert_array_equal(index.targets, expected.targets)


def test_window_index_refuses_a_window_as_long_as_a_sequence():
    with pytest.raises(DataError, match=re.escape("Window length 4 must be shorter than the sequence")):
        sliding_window_index([[0, 1, 2, 3], [0, 1, 2, 3, 4]], 4)


@pytest.mark.parametrize("layout", [TimeSteps("scaled"), TimeSteps("onehot"), TimeSteps("embedding"),
                                    Features("scaled"), Features("onehot"), Features("embedding")])
def test_in_graph_encoding_is_bit_identical_to_numpy(layout):
    ids = np.random.default_rng(0).integers(0, 26, size=(7, 3)).astype(np.int32)
    expected = layout.transform(ids, 26)
    got = layout.transform_tensor(ids, 26).numpy()
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def test_windowed_inputs_train_exactly_as_materialized_arrays():
    """(With XLA, as the trainers run, tests/test_experiments.py checks the exact accuracies.)"""
    ids = np.array([i % 26 for i in range(60)], dtype=np.int32)
    index = sliding_window_index(ids, 3)
    layout = TimeSteps("scaled")
    windows = index.materialize()
    histories, weights = [], []
    for windowed in (False, True):
        keras.utils.set_random_seed(3)
        network = build_model(ModelSpec(units=8), layout, window_length=3, vocabulary_size=26)
        loop = TrainingLoop(network, jit_compile=False)
        plans = lambda epoch: shuffled_plan(len(index), 8, seed=1, epoch=epoch)  # noqa: E731
        if windowed:
            inputs = WindowedInputs(index.ids, index.starts, 3, lambda batch: layout.transform_tensor(batch, 26))
            histories.append(loop.fit(inputs, None, plans, epochs=3))
        else:
            histories.append(loop.fit(layout.transform(windows.inputs, 26), windows.targets, plans, epochs=3))
        weights.append(network.get_weights())
    assert [histories[0][key] for key in ("loss", "accuracy")] == [histories[1][key] for key in ("loss", "accuracy")]
    for first, second in zip(*weights):
        np.testing.assert_array_equal(first, second)


def test_windowed_inputs_refuse_starts_past_the_end():
    with pytest.raises(DataError, match=re.escape("WindowedInputs.starts must lie in [0, 6]")):
        WindowedInputs(np.arange(10, dtype=np.int32), np.array([0, 7]), 3, lambda batch: batch)


# Corpora -----------------------------------------------------------------------------
def test_python_stdlib_is_a_char_corpus_of_whole_files_within_the_limit():
    corpus = python_stdlib(max_bytes=300_000)
    files = python_stdlib_files(300_000)
    assert corpus.name == "python-stdlib" and corpus.level == "char"
    assert len(corpus.sequences) == len(files) > 1
    assert sum(path.stat().st_size for path in files) <= 300_000
    assert "def " in "".join(corpus.sequences[0]) or "import" in "".join(corpus.sequences[0])


def test_python_stdlib_after_is_the_source_of_the_files_that_follow_a_corpus():
    trained = python_stdlib_files(300_000)
    following = python_stdlib_files(1_000_000)[len(trained)]
    unseen = python_stdlib_after(300_000, 5_000)
    assert len(unseen) == 5_000
    assert unseen == following.read_text(encoding="utf-8")[:5_000]


def test_python_stdlib_after_refuses_a_bad_length():
    with pytest.raises(ConfigurationError, match="The 'characters' parameter of python_stdlib_after"):
        python_stdlib_after(300_000, 0)


def test_python_stdlib_files_refuse_a_bad_limit():
    with pytest.raises(ConfigurationError, match="The 'max_bytes' parameter of python_stdlib_files"):
        python_stdlib_files(0)


def test_sample_text_is_bundled_python():
    corpus = sample_text()
    assert corpus.name == "tiny_python" and "def fibonacci(count):" in "".join(corpus.tokens)


# Token files and streams ---------------------------------------------------------------
def number_corpus(*lengths: int) -> Corpus:
    """Documents of distinct tokens whose ids are their positions in the corpus."""
    documents, start = [], 0
    for length in lengths:
        documents.append([str(i) for i in range(start, start + length)])
        start += length
    return Corpus(tuple(tuple(document) for document in documents), level="word", name="numbers")


def test_token_files_hold_the_ids_and_document_starts(tmp_path):
    corpus = number_corpus(30, 12)
    tokens = encode_corpus(corpus, corpus.vocabulary(), tmp_path / "c.ids")
    assert tokens.length == 42
    np.testing.assert_array_equal(tokens.read(), np.arange(42))
    assert tokens.document_starts.tolist() == [0, 30]


def test_text_files_encode_one_document_each(tmp_path):
    (tmp_path / "a.py").write_text("ab", encoding="utf-8")
    (tmp_path / "b.py").write_text("bca", encoding="utf-8")
    tokens = encode_text_files([tmp_path / "a.py", tmp_path / "b.py"], tmp_path / "t.ids")
    assert tokens.vocabulary.tokens == ("a", "b", "c")
    assert tokens.read().tolist() == [0, 1, 1, 2, 0] and tokens.document_starts.tolist() == [0, 2]


def test_row_r_of_batch_t_plus_1_continues_row_r_of_batch_t(tmp_path):
    corpus = number_corpus(100)
    tokens = encode_corpus(corpus, corpus.vocabulary(), tmp_path / "c.ids")
    layout = StreamLayout(100, streams=3, segment_length=4)
    assert (layout.stream_length, layout.steps) == (33, 8)
    batches = list(stream_dataset(tokens, layout, stream_resets(layout, [0], "epoch"), rows=[0, 1, 2]))
    assert len(batches) == 8
    inputs = np.stack([batch[0].numpy() for batch in batches])  # (steps, B, T)
    targets = np.stack([batch[1].numpy() for batch in batches])
    np.testing.assert_array_equal(inputs[0], [[0, 1, 2, 3], [33, 34, 35, 36], [66, 67, 68, 69]])
    np.testing.assert_array_equal(targets, inputs + 1)
    np.testing.assert_array_equal(inputs[1:, :, 0], inputs[:-1, :, -1] + 1)  # each row continues itself
    assert [bool(batch[2].numpy().all()) for batch in batches] == [True] + [False] * 7


def test_a_replica_reads_only_its_own_rows(tmp_path):
    corpus = number_corpus(100)
    tokens = encode_corpus(corpus, corpus.vocabulary(), tmp_path / "c.ids")
    layout = StreamLayout(100, streams=4, segment_length=5)
    first = next(iter(stream_dataset(tokens, layout, stream_resets(layout, [0], "epoch"), rows=[2, 3])))
    np.testing.assert_array_equal(first[0].numpy()[:, 0], [50, 75])


def test_boundary_resets_zero_a_row_before_the_segment_where_a_document_starts():
    layout = StreamLayout(40, streams=2, segment_length=4)  # streams of 20: rows start at 0 and 20
    resets = stream_resets(layout, document_starts=[0, 9, 20, 24], policy="boundary")
    assert resets[:, 0].tolist() == [True, False, True, False]  # 9 lies in segment [8, 12)
    assert resets[:, 1].tolist() == [True, True, False, False]  # 24 starts segment [24, 28)
    assert stream_resets(layout, [0, 9], policy="epoch")[1:].any() == np.False_


def test_a_corpus_too_short_for_the_streams_says_how_long_it_must_be():
    with pytest.raises(DataError, match=re.escape("Use fewer streams (batch_size), a shorter segment (window), or a longer corpus (at least 40 tokens)")):
        StreamLayout(30, streams=4, segment_length=9)


# StreamTrainer ---------------------------------------------------------------------------
def test_stream_trainer_matches_plain_keras_on_the_same_batches():
    """Same model, same batches (stateful Keras fit, shuffle=False, reset each epoch)."""
    corpus = sample_text()
    vocabulary = corpus.vocabulary()
    spec = ModelSpec(units=8, embedding_dim=4)
    streams, segment = 4, 8
    trainer = StreamTrainer(window=segment, batch_size=streams, units=8, embedding_dim=4, epochs=2,
                            reset="epoch", jit_compile=False, seed=5)
    _, history = trainer.fit(corpus)

    keras.utils.set_random_seed(5)
    initial = build_stream_model(spec, vocabulary_size=vocabulary.size)
    reference = keras.Sequential([
        keras.Input(batch_shape=(streams, segment), dtype="int32"),
        keras.layers.Embedding(vocabulary.size + 1, 4, name="embedding"),
        keras.layers.LSTM(8, return_sequences=True, stateful=True, name="lstm_1"),
        keras.layers.Dense(vocabulary.size, name="next_token"),
    ])
    for layer in reference.layers:
        layer.set_weights(initial.get_layer(layer.name).get_weights())
    reference.compile(optimizer=keras.optimizers.Adam(0.001), jit_compile=False,
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    ids = vocabulary.encode_array(corpus.sequences[0])
    positions = StreamLayout(len(ids), streams, segment).segment_starts().reshape(-1)[:, None] + np.arange(segment)

    class Reset(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            reference.get_layer("lstm_1").reset_state()

    fitted = reference.fit(ids[positions] + 1, ids[positions + 1], batch_size=streams, shuffle=False,
                           epochs=2, verbose=0, callbacks=[Reset()])
    np.testing.assert_allclose(history.loss, fitted.history["loss"], rtol=1e-5)
    for layer in reference.layers:
        for ours, theirs in zip(trainer.network_.get_layer(layer.name).get_weights(), layer.get_weights()):
            np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)


def test_stream_model_generates_after_priming_and_saves(tmp_path):
    trainer = StreamTrainer(window=16, batch_size=4, units=16, embedding_dim=8, epochs=2, jit_compile=False)
    model, history = trainer.fit(sample_text())
    assert history.epochs == 2 and history.steps == 2 * 29
    assert model.spec["streams"] == {"streams": 4, "segment_length": 16, "steps_per_epoch": 29,
                                     "replicas": 1, "strategy": "default"}
    model.reset()
    text = model.generate("def main(argv=None):\n    ", steps=20, temperature=0.8, seed=1)
    assert len(text) == 20 and set(text) <= set(model.vocabulary.tokens)
    path = model.save(tmp_path / "stream.seqkit")
    from seqkit.sequence_model import SequenceModel

    loaded = SequenceModel.load(path)
    model.reset()
    loaded.reset()
    assert loaded.generate("class ", steps=10) == model.generate("class ", steps=10)


def test_stream_trainer_reads_a_token_file_without_a_corpus(tmp_path):
    corpus = sample_text()
    tokens = encode_corpus(corpus, corpus.vocabulary(), tmp_path / "c.ids")
    settings = dict(window=16, batch_size=4, units=8, embedding_dim=4, epochs=1, jit_compile=False)
    _, from_file = StreamTrainer(**settings).fit(tokens)
    _, from_memory = StreamTrainer(**settings).fit(corpus)
    assert from_file.loss == from_memory.loss


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"reset": "every:3"}, "The 'reset' parameter of StreamTrainer must be 'boundary' or 'epoch'. Got 'every:3' instead."),
        ({"strategy": "tpu"}, "The 'strategy' parameter of StreamTrainer must be None, 'default', 'mirrored', 'multi-worker' or a tf.distribute.Strategy. Got 'tpu' instead."),
    ],
)
def test_stream_trainer_refuses_bad_settings(settings, message):
    with pytest.raises(ConfigurationError) as error:
        StreamTrainer(**settings).fit("abcdefgh" * 50)
    assert str(error.value) == message


@pytest.mark.parametrize("name", ["encoding", "layout", "stride"])
def test_stream_trainer_has_no_window_layout_parameters(name):
    """A stream reads ids through an embedding, segment after segment: there is nothing to set."""
    with pytest.raises(TypeError, match=f"unexpected keyword argument '{name}'"):
        StreamTrainer(**{name: "timesteps"})


def test_stream_trainer_refuses_streams_that_do_not_split_over_replicas():
    with pytest.raises(ConfigurationError, match="The 'streams' parameter of StreamLoop"):
        from seqkit.engine import StreamLoop

        class TwoReplicas:
            num_replicas_in_sync = 2

        StreamLoop(lambda: None, streams=3, strategy=TwoReplicas())  # type: ignore[arg-type]


@pytest.mark.slow
def test_a_char_model_learns_python_from_a_megabyte_of_the_standard_library():
    """>= 1 MB of stdlib source, ~5 epochs: measured next-char accuracy and a primed sample."""
    corpus = python_stdlib(max_bytes=1_200_000)
    assert len(corpus) >= 1_000_000
    trainer = StreamTrainer(window=64, batch_size=32, units=256, embedding_dim=32, epochs=5, learning_rate=0.003)
    model, history = trainer.fit(corpus)
    print(f"\nloss {history.loss}\naccuracy {history.accuracy}\nseconds {history.seconds:.1f}")
    assert history.accuracy[-1] > 0.5
    model.reset()
    prime = "def __init__(self"
    sample = "".join(model.generate(prime, steps=300, temperature=0.5, seed=7))
    print(prime + sample)
    assert "self" in sample and ("\n" in sample) and ("(" in sample or ":" in sample)


@pytest.mark.slow
def test_seqkit_train_stream_saves_a_model_that_generates(runner, tmp_path):
    from seqkit.cli.main import main as cli

    text = tmp_path / "code.py"
    text.write_text("".join(sample_text().tokens), encoding="utf-8")
    bundle = tmp_path / "stream.seqkit"
    result = runner.invoke(cli, ["train", "--trainer", "stream", "--text", str(text), "--window", "16",
                                 "--batch-size", "4", "--units", "8", "--epochs", "1", "--out", str(bundle)])
    assert result.exit_code == 0, result.output
    assert "StreamTrainer" in result.output and bundle.is_file()
    result = runner.invoke(cli, ["generate", str(bundle), "--prime", "def ", "--steps", "5"])
    assert result.exit_code == 0, result.output


@pytest.mark.slow
@pytest.mark.parametrize("kernel, expected", [("off", False), ("on", True)])
def test_seqkit_train_stream_kernel_option_reaches_the_policy(runner, tmp_path, kernel, expected):
    from seqkit.cli.main import main as cli
    from seqkit.sequence_model import load_bundle

    text = tmp_path / "code.py"
    text.write_text("".join(sample_text().tokens), encoding="utf-8")
    bundle = tmp_path / "stream.seqkit"
    result = runner.invoke(cli, ["train", "--trainer", "stream", "--text", str(text), "--window", "16",
                                 "--batch-size", "4", "--units", "8", "--epochs", "1", "--kernel", kernel,
                                 "--out", str(bundle)])
    assert result.exit_code == 0, result.output
    spec = load_bundle(bundle).spec
    assert spec["policy"]["kernel"] is expected
    assert spec["hyperparameters"]["kernel"] is expected


def test_a_missing_token_file_is_refused_with_a_seqkit_error(tmp_path):
    from seqkit.streams import TokenFile
    from seqkit.vocab import Vocabulary

    with pytest.raises(DataError) as error:
        TokenFile(tmp_path / "none.ids", Vocabulary(["a"]), np.array([0]))
    assert str(error.value) == (
        f"Token file '{tmp_path / 'none.ids'}' does not exist or cannot be read. Check the path."
    )


def test_a_truncated_token_file_is_refused(tmp_path):
    from seqkit.streams import TokenFile
    from seqkit.vocab import Vocabulary

    path = tmp_path / "cut.ids"
    path.write_bytes(b"\x00" * 6)
    with pytest.raises(DataError) as error:
        TokenFile(path, Vocabulary(["a"]), np.array([0]))
    assert str(error.value) == (
        f"Token file '{path}' holds 6 bytes, not a whole, non-zero number of int32 ids: it is "
        "truncated or not a seqkit token file. Encode the corpus again with encode_corpus."
    )


def test_a_failed_encoding_leaves_no_partial_token_file(tmp_path):
    from seqkit.datasets import Corpus
    from seqkit.errors import VocabularyError
    from seqkit.streams import encode_corpus
    from seqkit.vocab import Vocabulary

    with pytest.raises(VocabularyError):
        encode_corpus(Corpus.from_sequences(["abc", "abx"]), Vocabulary(["a", "b", "c"]), tmp_path / "c.ids")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_stream_batch_size_must_split_across_replicas():
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(
        """
        from seqkit.distribute import split_cpu
        split_cpu(2)
        import seqkit
        from seqkit.errors import ConfigurationError
        from seqkit.trainers import StreamTrainer
        try:
            StreamTrainer(batch_size=3, window=4, strategy="mirrored", epochs=1).fit(seqkit.alphabet())
        except ConfigurationError as error:
            print(error)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == (
        "The 'batch_size' parameter of StreamTrainer must be a multiple of the 2 replicas "
        "(each replica trains its own streams). Got 3 instead."
    )


@pytest.mark.slow
def test_a_corpus_too_large_for_memory_streams_through_tf_data_with_the_same_results(monkeypatch):
    import seqkit.trainers.stream as stream

    def fit():
        return StreamTrainer(window=16, batch_size=4, units=8, embedding_dim=4, epochs=2).fit(sample_text())[1]

    in_memory = fit()
    monkeypatch.setattr(stream, "IN_MEMORY_BYTES", 0)
    from_file = fit()
    np.testing.assert_allclose(from_file.loss, in_memory.loss, rtol=1e-6)
    np.testing.assert_allclose(from_file.accuracy, in_memory.accuracy, rtol=1e-6)
