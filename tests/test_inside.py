"""seqkit.cells (seqkit.inside): reading the LSTM's h, c and gates over a text, ranking units per
probe on held-out text, gate saturation, and the pictures of the report."""

import re

import keras
import numpy as np
import pytest

import seqkit
from seqkit.errors import ConfigurationError, DataError
from seqkit.inside import GATES, CellReport, cells
from seqkit.trainers import StreamTrainer

CODE = (
    'def f(x):\n    return "a(b)" + g([x, 1])  # one\n'
    "class K:\n    name = 'k'\n    def m(self):\n        return {1: (2, 3)}\n"
)
VOWELS = re.compile("[aeiou]")


@pytest.fixture(scope="module")
def code_model():
    """A tiny stream model of the code above (trained for one epoch: its units are what they are)."""
    model, _ = StreamTrainer(window=16, batch_size=4, units=8, embedding_dim=4, epochs=1).fit(CODE * 12)
    return model


@pytest.fixture(scope="module")
def planted():
    """A stream model whose unit 3 copies one input feature (+4 for a vowel, -4 otherwise) by hand.

    Its embedding's feature 0 is the vowel sign; unit 3's cell input reads only that feature,
    its input and output gates are held open and its forget gate shut (biases of +-8), so its
    ``c`` is tanh(+-4) at every step: the vowel indicator. The other units read the other
    features, never feature 0.
    """
    text = "the quick brown fox jumps over the lazy dog and runs away\n" * 10
    model, _ = StreamTrainer(window=16, batch_size=4, units=8, embedding_dim=4, epochs=1).fit(text)
    network = model.network
    embedding = network.get_layer("embedding")
    table = np.random.default_rng(0).normal(0, 0.5, embedding.embeddings.shape).astype("float32")
    for index, token in enumerate(model.vocabulary.tokens):
        table[index + 1, 0] = 4.0 if VOWELS.fullmatch(token) else -4.0
    embedding.embeddings.assign(table)
    lstm = next(layer for layer in network.layers if isinstance(layer, keras.layers.LSTM))
    units = 8
    kernel = np.random.default_rng(1).normal(0, 0.3, lstm.cell.kernel.shape).astype("float32")
    kernel[0, :] = 0.0
    kernel[:, [3, units + 3, 2 * units + 3, 3 * units + 3]] = 0.0
    kernel[0, 2 * units + 3] = 1.0  # the cell input of unit 3 reads feature 0
    bias = np.zeros(4 * units, "float32")
    bias[3], bias[units + 3], bias[3 * units + 3] = 8.0, -8.0, 8.0  # input open, forget shut, output open
    recurrent = np.random.default_rng(2).normal(0, 0.3, lstm.cell.recurrent_kernel.shape).astype("float32")
    recurrent[:, [3, units + 3, 2 * units + 3, 3 * units + 3]] = 0.0
    lstm.cell.kernel.assign(kernel)
    lstm.cell.recurrent_kernel.assign(recurrent)
    lstm.cell.bias.assign(bias)
    return model, text


def test_a_planted_unit_is_ranked_first(planted):
    model, text = planted
    report = cells(model, text, probes=[r"[aeiou]"], streams=2)
    best = report.best("regex:[aeiou]")
    assert (best.layer, best.unit) == (1, 3)
    assert best.held_out > 0.99


def test_a_planted_unit_is_found_by_the_layers_linear_probe(planted):
    model, text = planted
    report = cells(model, text, probes=[r"[aeiou]"], streams=2)
    assert report.linear_probes["regex:[aeiou]"][0] > 0.99


def test_gate_saturation_of_the_planted_unit(planted):
    model, text = planted
    report = cells(model, text, probes=["word_start"], streams=2)
    assert report.saturation_right[0, GATES.index("input"), 3] == 1.0
    assert report.saturation_left[0, GATES.index("forget"), 3] == 1.0
    assert report.saturation_right[0, GATES.index("output"), 3] == 1.0


def test_the_cells_read_h_and_c_as_keras_does(code_model):
    report = cells(code_model, CODE * 12, probes=["string"], streams=2, record=40)
    tokens = report.tokens
    network = code_model.network
    embedded = network.get_layer("embedding")(np.asarray(code_model.vocabulary.encode(tokens))[None, :] + 1)
    lstm = next(layer for layer in network.layers if isinstance(layer, keras.layers.LSTM))
    twin = keras.layers.LSTM(8, return_sequences=True, return_state=True)
    twin.build(embedded.shape)
    twin.set_weights(lstm.get_weights())
    hidden, _, cell = twin(embedded)
    np.testing.assert_allclose(report.activations[0, 0], np.asarray(hidden)[0], atol=1e-5)
    np.testing.assert_allclose(report.activations[0, 1, -1], np.asarray(cell)[0], atol=1e-5)


def test_the_report_records_at_most_record_tokens(code_model):
    report = cells(code_model, CODE * 12, probes=["string"], streams=2, record=50)
    assert report.activations.shape == (1, 2, 50, 8) and len(report.tokens) == 50
    assert report.labels["string"].shape == (50,)


def test_every_unit_and_state_is_ranked(code_model):
    report = cells(code_model, CODE * 12, probes=["bracket_depth"], streams=2)
    ranking = report.rankings["bracket_depth"]
    assert len(ranking) == 16 and {score.state for score in ranking} == {"h", "c"}
    assert [score.held_out for score in ranking] == sorted((score.held_out for score in ranking), reverse=True)


def test_saturation_is_a_fraction_per_layer_gate_and_unit(code_model):
    report = cells(code_model, CODE * 12, probes=["string"], streams=2)
    assert report.saturation_left.shape == report.saturation_right.shape == (1, 3, 8)
    assert ((report.saturation_left >= 0) & (report.saturation_left + report.saturation_right <= 1)).all()


def test_counts_of_tokens_read(code_model):
    text = CODE * 12
    report = cells(code_model, text, probes=["string"], streams=2, held_out=0.25)
    split = int(len(text) * 0.75)
    assert report.fit_tokens == split // 2 * 2
    assert report.held_out_tokens == (len(text) - split) // 2 * 2


def test_a_constant_probe_ranks_no_unit(code_model):
    report = cells(code_model, CODE * 12, probes=[r"@"], streams=2)
    assert report.rankings["regex:@"] == []
    with pytest.raises(DataError) as caught:
        report.best("regex:@")
    assert str(caught.value) == (
        "No unit tracks probe 'regex:@': it is constant on the text before the held-out part or on the held-out "
        "part. Give a text where it varies in both."
    )


def test_an_unknown_probe_of_a_report_is_refused(code_model):
    report = cells(code_model, CODE * 12, probes=["string"], streams=2)
    with pytest.raises(ConfigurationError) as caught:
        report.best("comment")
    assert str(caught.value) == "This report has no probe 'comment'; it has 'string'. Ask cells() for it with probes=[...]."


def test_every_builtin_probe_by_default(code_model):
    report = cells(code_model, CODE * 12, streams=2)
    assert list(report.probes) == list(seqkit.probes.BUILTIN_PROBES)


def test_a_callable_probe_gets_the_tokens(code_model):
    def is_quote(tokens):
        return [1.0 if token in "'\"" else 0.0 for token in tokens]

    report = cells(code_model, CODE * 12, probes=[is_quote], streams=2)
    assert report.best("is_quote").probe == "is_quote"


def test_seqkit_cells_is_the_function():
    assert seqkit.cells is cells


def test_a_short_text_is_refused(code_model):
    with pytest.raises(DataError) as caught:
        cells(code_model, CODE[:50])
    assert str(caught.value) == (
        "cells needs a text of at least 100 tokens to correlate units with probes; got 50. Give a longer text."
    )


@pytest.mark.parametrize("held_out", [0.0, 0.6, "0.2", True])
def test_held_out_outside_its_range_is_refused(code_model, held_out):
    with pytest.raises(ConfigurationError) as caught:
        cells(code_model, CODE * 12, held_out=held_out)
    assert str(caught.value) == f"held_out must be a fraction between 0.05 and 0.5; got {held_out!r}."


def test_too_many_streams_are_refused(code_model):
    with pytest.raises(ConfigurationError, match=r"^streams=1000 leaves fewer than 2 held-out tokens per stream"):
        cells(code_model, CODE * 12, streams=1000)


@pytest.mark.slow  # trains a model of its own
def test_a_gru_model_is_refused():
    model, _ = StreamTrainer(window=8, batch_size=2, units=4, embedding_dim=2, epochs=1, cell="gru").fit(CODE * 4)
    with pytest.raises(ConfigurationError) as caught:
        cells(model, CODE * 4)
    assert str(caught.value) == (
        "cells reads LSTM cells (their h, c and gates); this model's recurrent layers are GRU. Train it with cell='lstm'."
    )


def test_the_html_escapes_the_text(code_model):
    report = cells(code_model, CODE * 12, probes=["string"], streams=2)
    report.tokens[:8] = list("<script>")  # the recorded text as a hostile file would give it
    page = report.html()
    text = re.sub(r"<[^>]+>", "", page[page.index("<pre"):])  # the page's text, tags removed
    assert "<script" not in page and "&lt;script&gt;" in text


def test_the_html_page_is_written(code_model, tmp_path):
    report = cells(code_model, CODE * 12, probes=["string", "line_position"], streams=2)
    path = report.write_html(tmp_path / "cells.html")
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count("<section") == 2


def test_the_figures_take_axes(code_model):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    report = cells(code_model, CODE * 12, probes=["string"], streams=2)
    figure = Figure()
    ax = figure.subplots()
    assert report.plot("string", ax=ax, tokens=60) is figure
    axes = Figure().subplots(1, 3)
    assert report.plot_saturation(ax=axes) is axes[0].figure


def test_the_json_summary(code_model):
    report = cells(code_model, CODE * 12, probes=["string"], streams=2)
    document = report.to_json(top=2)
    assert set(document) == {"fit_tokens", "held_out_tokens", "streams", "probes", "saturation"}
    assert len(document["probes"]["string"]["top"]) == 2
    assert set(document["saturation"]) == set(GATES)


def test_the_report_is_a_cell_report(code_model):
    assert isinstance(cells(code_model, CODE * 12, probes=["string"], streams=2), CellReport)


# The text as the probes read it ------------------------------------------------------------
LINES = "alpha beta # gamma\n  delta 'eps zeta'\nomega\n" * 30


@pytest.fixture(scope="module")
def word_model():
    model, _ = StreamTrainer(window=8, batch_size=4, units=8, embedding_dim=4, epochs=1).fit(
        seqkit.Corpus.from_text(LINES, level="word"))
    return model


def test_word_tokens_take_the_labels_of_the_text_with_its_newlines(word_model):
    report = cells(word_model, LINES, probes=["comment", "line_position", "string"], streams=2, record=8)
    # each token with the whitespace before it, as the text shows it
    assert report.tokens == ["\nalpha", " beta", " #", " gamma", "\n  delta", " 'eps", " zeta'", "\nomega"]
    assert report.labels["comment"].tolist() == [0, 0, 1, 1, 0, 0, 0, 0]
    assert report.labels["line_position"].tolist() == [5, 10, 12, 18, 7, 12, 18, 5]
    assert report.labels["string"].tolist() == [0, 0, 0, 0, 0, 1, 0, 0]


def test_the_record_spans_the_first_streams_in_the_order_of_the_text(code_model):
    text = CODE * 12
    report = cells(code_model, text, probes=["string"], streams=4, record=100)
    held_out = list(text)[int(len(text) * 0.8):]
    per_stream = len(held_out) // 4
    assert report.tokens == held_out[:100] and report.activations.shape[2] == 100
    assert report.stream_starts == list(range(0, 100, per_stream))


def test_one_probe_given_alone_is_one_probe(code_model):
    assert list(cells(code_model, CODE * 12, probes="string", streams=2).probes) == ["string"]


def test_two_probes_of_one_name_are_refused(code_model):
    with pytest.raises(ConfigurationError) as caught:
        cells(code_model, CODE * 12, probes=[lambda tokens: [0.0] * len(tokens), lambda tokens: [1.0] * len(tokens)])
    assert str(caught.value) == (
        "Two probes are named '<lambda>'; each needs its own name. Give a function another __name__, or make it a "
        "probe with callable_probe(function, name=...)."
    )


def test_a_text_of_another_type_is_refused(code_model):
    with pytest.raises(DataError) as caught:
        cells(code_model, None)
    assert str(caught.value) == "cells reads a text (a str) or its tokens (a list of str); got NoneType."


def test_no_page_without_a_probe_that_varies(code_model):
    report = cells(code_model, CODE * 12, probes=[r"@"], streams=2)
    with pytest.raises(DataError, match=r"^No unit to show: every probe is constant on this text"):
        report.html()


def test_the_json_of_a_layer_without_a_ranked_unit(code_model):
    report = cells(code_model, CODE * 12, probes=["string"], streams=2)
    report.rankings["string"] = [score for score in report.rankings["string"] if score.layer != 1]
    assert report.to_json()["probes"]["string"]["best_per_layer"] == [None]


@pytest.mark.slow  # trains a model of its own
def test_subword_pieces_are_shown_as_the_text_they_complete():
    from seqkit.subword import SubwordVocabulary

    text = "héllo wörld 'quoted'\n" * 40
    vocabulary = SubwordVocabulary.train(text, kind="bpe", vocab_size=270)
    model, _ = StreamTrainer(window=8, batch_size=2, units=8, embedding_dim=4, epochs=1).fit(
        seqkit.Corpus.from_text(text, vocabulary=vocabulary))
    report = cells(model, text, probes=["string", "line_position"], streams=1, record=1_000)
    pieces = vocabulary.split(text)
    held_out_start = vocabulary.offsets(text)[int(len(pieces) * 0.8) - 1][1]
    assert "".join(report.tokens) == text[held_out_start:][: len("".join(report.tokens))]
    assert "\ufffd" not in "".join(report.tokens) and "Ġ" not in "".join(report.tokens)
