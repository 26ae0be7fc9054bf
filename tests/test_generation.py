"""Specification of generation as people use it: many samples in one batch, stops, beams, penalties.

Every model here is tiny (the alphabet, a few epochs); what is specified is the decoding,
not the quality. "Alone" means ``generate(prime, steps, seed=s)``; "in a batch" means row
``i`` of ``generate(prime, steps, num_samples=N, seed=s - i)``.
"""

from __future__ import annotations

import numpy as np
import pytest

import seqkit
from seqkit.callbacks import SampleText
from seqkit.errors import ConfigurationError, DataError
from seqkit.models import recurrent_layers
from seqkit.sampling import Decoding, choose
from seqkit.trainers import StatefulTrainer, StatelessTrainer, StreamTrainer

OPTIONS = [
    {"temperature": 1.5},
    {"temperature": 0.7, "top_k": 4},
    {"top_p": 0.8},
    {"temperature": 1.2, "top_k": 6, "top_p": 0.9, "repetition_penalty": 1.3},
]


TRAINED = {
    "stateless": lambda: StatelessTrainer(window=2, encoding="onehot", units=8, epochs=3, seed=1).fit(seqkit.alphabet()),
    "stateful": lambda: StatefulTrainer(units=16, epochs=150, seed=7).fit(seqkit.alphabet()),
    "gru": lambda: StatefulTrainer(units=8, layers=2, cell="gru", encoding="embedding", epochs=3, seed=1).fit(
        seqkit.alphabet()),
    "stream": lambda: StreamTrainer(units=8, window=16, batch_size=4, epochs=1, seed=1).fit(
        "".join(seqkit.alphabet().tokens) * 40),
}
"""A stateless one-hot window model, a stateful scaled one, a 2-layer GRU and an embedding stream model."""


class Models(dict):
    """The models, each trained the first time a test asks for it."""

    def __missing__(self, name: str) -> seqkit.SequenceModel:
        self[name] = TRAINED[name]()[0]
        return self[name]


@pytest.fixture(scope="module")
def models() -> Models:
    return Models()


MODEL_NAMES = list(TRAINED)
DEFAULT_MODELS = ("stateless", "stateful")
"""What the default suite runs every model-wide check on; the GRU and the stream model in the slow suite."""


def each_model(names=MODEL_NAMES):
    return [pytest.param(name, marks=() if name in DEFAULT_MODELS else pytest.mark.slow) for name in names]


@pytest.mark.parametrize("name", each_model())
@pytest.mark.parametrize(
    "options",
    # every option together in the default suite; each on its own in the slow one
    [pytest.param(options, marks=() if len(options) == 4 else pytest.mark.slow) for options in OPTIONS],
    ids=lambda options: ",".join(options),
)
def test_sample_i_alone_equals_sample_i_of_a_batch_of_1_7_and_32(models, name, options):
    model = models[name]
    rows = [0, 1, 2, 3, 4, 5, 6, 31]
    alone = {i: model.generate("AB", 20, seed=100 + i, **options) for i in rows}
    for size in (1, 7, 32):
        batch = model.generate("AB", 20, num_samples=size, seed=100, **options)
        assert len(batch) == size and {i: batch[i] for i in rows if i < size} == {i: alone[i] for i in rows if i < size}


def test_one_compiled_call_per_step_serves_every_row(models, monkeypatch):
    model = models["stateless"]
    calls: list[int] = []
    probabilities = model.probabilities
    monkeypatch.setattr(model, "probabilities", lambda windows: calls.append(len(windows)) or probabilities(windows))
    model.generate("AB", 10, num_samples=32, temperature=1.0, seed=0)
    assert calls == [32] * 10


def test_a_row_that_stopped_costs_nothing_more(models, monkeypatch):
    model = models["stateless"]
    calls: list[int] = []
    probabilities = model.probabilities
    monkeypatch.setattr(model, "probabilities", lambda windows: calls.append(len(windows)) or probabilities(windows))
    samples = model.sample("AB", 40, num_samples=8, temperature=2.0, seed=3, stop="E")
    stopped_after = sorted(len(sample.tokens) + 1 for sample in samples if sample.stop_reason == "stop")
    assert stopped_after, "some rows must stop for this test to say anything"
    assert calls[0] == 8 and calls == sorted(calls, reverse=True)
    assert sum(calls) == sum(len(sample.tokens) + (sample.stop_reason == "stop") for sample in samples)


@pytest.mark.parametrize("name", each_model())
@pytest.mark.parametrize("keep", [False, True])
def test_a_stop_sequence_appears_only_at_the_end_and_only_when_kept(models, name, keep):
    stops = ["E", "XY", "QQ"]
    samples = models[name].sample("AB", 60, num_samples=32, temperature=2.0, seed=5, stop=stops, keep_stop=keep)
    assert {sample.stop_reason for sample in samples} == {"stop", "length"}
    for sample in samples:
        text = "".join(sample.tokens)
        if sample.stop_reason == "stop" and keep:
            ending = [stop for stop in stops if text.endswith(stop)]
            assert len(ending) == 1
            text = text[: -len(ending[0])]
        assert not any(stop in text for stop in stops), text


def test_a_stop_is_searched_for_in_the_generated_tokens_only_not_the_prime(models):
    sample = models["stateful"].sample("ABCDE", 3, stop="E")[0]
    assert sample.stop_reason == "length" and len(sample.tokens) == 3


def test_stop_sequences_given_as_token_lists(models):
    model = models["stateful"]
    model.reset()
    by_string = model.sample("A", 10, stop="DE", keep_stop=True)[0]
    by_tokens = model.sample("A", 10, stop=[["D", "E"]], keep_stop=True)[0]
    assert by_string == by_tokens and "".join(by_string.tokens) == "BCDE"


@pytest.mark.parametrize("name", each_model())
def test_beam_search_of_width_1_is_greedy_decoding(models, name):
    model = models[name]
    assert list(model.sample("AB", 30, beam=1)[0].tokens) == model.generate("AB", 30)
    penalized = model.sample("AB", 30, beam=1, repetition_penalty=1.5)[0]
    assert list(penalized.tokens) == model.generate("AB", 30, repetition_penalty=1.5)


def test_beam_search_of_width_1_stops_where_greedy_decoding_stops(models):
    model = models["stateful"]
    greedy = model.sample("A", 20, stop="G")[0]
    beam = model.sample("A", 20, stop="G", beam=1)[0]
    assert (beam.tokens, beam.stop_reason) == (greedy.tokens, greedy.stop_reason) == (tuple("BCDEF"), "stop")


@pytest.mark.parametrize("name", each_model(["stateless", "gru"]))
def test_beam_search_returns_the_w_best_continuations_with_their_log_probabilities(models, name):
    model = models[name]
    beams = model.sample("AB", 8, beam=4)
    assert len(beams) == 4 and len({beam.tokens for beam in beams}) == 4
    scores = [beam.log_probability for beam in beams]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] >= model.sample("AB", 8)[0].log_probability - 1e-9  # never worse than greedy
    for beam in beams:  # each score is the model's own log-probability of its tokens, read one by one
        model.reset()
        expected, text = 0.0, ["A", "B"]
        distribution = model.next_distribution(text)
        for token in beam.tokens:
            expected += np.log(distribution[model.vocabulary.token_to_id(token)])
            text.append(token)
            distribution = model.next_distribution([token] if model.stateful else text)
        model.reset()
        assert beam.log_probability == pytest.approx(expected, rel=1e-5)


def test_a_stateful_models_rows_do_not_share_state(models):
    model = models["stateful"]
    model.reset()
    cold, primed = model.generate("A", 5), model.generate("ABCDEFGHIJK", 5)
    assert model.generate(primes=["A", "ABCDEFGHIJK"], steps=5) == [cold, primed]
    assert "".join(primed) == "LMNOP"  # each row continues from its own prime's state


def test_generation_starts_from_the_models_state_and_leaves_it_as_it_was(models):
    model = models["stateful"]
    model.reset()
    model.prime("ABCDEFGHIJ")
    before = [np.array(state.value) for layer in recurrent_layers(model.network) for state in layer.states]
    assert "".join(model.generate("K", 5)) == "LMNOP"
    after = [np.array(state.value) for layer in recurrent_layers(model.network) for state in layer.states]
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
    model.reset()


def test_samples_stream_their_tokens_and_never_a_dropped_stop(models):
    pieces: dict[int, list[str]] = {}
    samples = models["stateless"].sample(
        "AB", 40, num_samples=6, temperature=2.0, seed=2, stop=["XY", "E"],
        on_tokens=lambda row, tokens: pieces.setdefault(row, []).extend(tokens),
    )
    assert [pieces.get(row, []) for row in range(6)] == [list(sample.tokens) for sample in samples]


def test_each_sample_records_its_seed_and_an_unseeded_run_picks_one(models):
    model = models["stateless"]
    samples = model.sample("AB", 10, num_samples=3, temperature=1.0)
    seeds = [sample.seed for sample in samples]
    assert seeds[1] == seeds[0] + 1 and seeds[2] == seeds[0] + 2
    assert [list(sample.tokens) for sample in samples] == model.generate("AB", 10, num_samples=3, temperature=1.0, seed=seeds[0])


def test_several_primes_give_num_samples_each_in_order(models):
    samples = models["stateless"].sample(primes=["AB", ["K", "L"]], steps=5, num_samples=2, temperature=1.0, seed=0)
    assert [(sample.prime, sample.prime_index, sample.seed) for sample in samples] == [
        (("A", "B"), 0, 0), (("A", "B"), 0, 1), (("K", "L"), 1, 2), (("K", "L"), 1, 3)]


def test_the_repetition_penalty_raises_repeated_probabilities_to_its_power():
    probabilities = np.array([[0.5, 0.3, 0.2]])
    seen = np.array([[True, False, False]])
    assert choose(probabilities, Decoding(), seen=seen).tolist() == [0]
    assert choose(probabilities, Decoding(repetition_penalty=2.0), seen=seen).tolist() == [1]  # 0.5**2 < 0.3


def test_a_repetition_penalty_breaks_a_greedy_loop(models):
    model = models["stateless"]
    plain, penalized = "".join(model.generate("AB", 60)), "".join(model.generate("AB", 60, repetition_penalty=3.0))
    assert len(set(penalized)) > len(set(plain))


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"beam": 2, "temperature": 0.5}, ConfigurationError,
         "Beam search keeps the most likely continuations and draws nothing: give beam or temperature, top_k, top_p, not both."),
        ({"beam": 257}, ConfigurationError, "The 'beam' parameter of SequenceModel.sample must be an int in [1, 256]. Got 257 instead."),
        ({"beam": 2, "num_samples": 2}, ConfigurationError,
         "Beam search returns the beam's continuations: give num_samples=1 with beam."),
        ({"num_samples": 4097}, ConfigurationError,
         "The 'num_samples' parameter of SequenceModel.sample must be an int in [1, 4096]. Got 4097 instead."),
        ({"repetition_penalty": 0}, ConfigurationError,
         "The 'repetition_penalty' parameter of SequenceModel.sample must be a float in (0, 100]. Got 0 instead."),
        ({"repetition_penalty": 1e308}, ConfigurationError,
         "The 'repetition_penalty' parameter of SequenceModel.sample must be a float in (0, 100]. Got 1e+308 instead."),
        ({"stop": "é"}, DataError,
         "The stop sequence 'é' holds 'é', which is not in the model's vocabulary, so it could never be generated. "
         "Give a stop sequence of the model's tokens."),
        ({"stop": ""}, DataError, "The stop sequence '' holds no token at this model's level; give a non-empty one."),
        ({"stop": 5}, DataError,
         'A stop sequence is a string or a list of tokens; got int. Give stop="\\n", stop=["\\n\\n", "END"] or stop=[["</s>"]].'),
        ({"stop": ["A", 1]}, DataError,
         'A stop sequence is a string or a list of tokens; got int (1) in the list. Give stop="\\n", '
         'stop=["\\n\\n", "END"] or stop=[["</s>"]].'),
        ({"num_samples": 4000, "steps": 10_000}, ConfigurationError,
         "4000 samples x 10000 steps is 40,000,000 tokens; one generation makes at most 10,000,000. "
         "Generate fewer or shorter samples, or in several calls."),
        ({"beam": 2, "on_tokens": print}, ConfigurationError,
         "Beam search settles its continuations only at the end, so there is nothing to stream: "
         "leave on_tokens out with beam."),
    ],
)
def test_bad_generation_options_are_refused_in_one_line(models, options, error, message):
    options = {"steps": 5, **options}
    with pytest.raises(error) as raised:
        models["stateless"].sample("AB", **options)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: m.sample(primes=[1, 2], steps=3),
         "A prime is a string or a list of string tokens; got int (1). "
         "Give prime='def ', prime=['C', 'G'] or primes=['def ', 'class ']."),
        (lambda m: m.sample(123, 3),
         "A prime is a string or a list of string tokens; got int (123). "
         "Give prime='def ', prime=['C', 'G'] or primes=['def ', 'class ']."),
        (lambda m: m.sample(primes=b"AB", steps=3),
         "primes= takes a list of primes, such as primes=['def ', 'class ']; got b'AB'."),
    ],
)
def test_a_prime_of_another_type_is_refused_in_one_line(models, call, message):
    with pytest.raises(DataError) as raised:
        call(models["stateless"])
    assert str(raised.value) == message


def test_one_prime_or_a_list_of_primes_not_both(models):
    with pytest.raises(ConfigurationError) as raised:
        models["stateless"].generate("AB", 5, primes=["AB"])
    assert str(raised.value) == (
        "SequenceModel.generate takes one prime (prime=) or a list of them (primes=); give exactly one of the two.")


def test_a_list_of_strings_is_one_prime_of_several_tokens(models):
    model = models["stateless"]
    assert model.generate(["A", "B"], 5) == model.generate("AB", 5)


def test_too_many_rows_are_refused_before_any_work(models):
    with pytest.raises(ConfigurationError) as raised:
        models["stateless"].sample(primes=["AB"] * 3, steps=5, num_samples=2000)
    assert str(raised.value) == (
        "3 primes x 2000 samples is 6000 rows; one generation makes at most 4096. Generate in several calls.")


def test_sample_text_uses_the_same_settings_during_training():
    lines: list[tuple[int, str]] = []
    callback = SampleText(
        2, "A", steps=10, num_samples=3, temperature=1.0, seed=4, stop="E", keep_stop=True,
        function=lambda epoch, text: lines.append((epoch, text)),
    )
    model, _ = StatefulTrainer(units=8, epochs=2, seed=1).fit(seqkit.alphabet(), callbacks=[callback])
    model.reset()
    expected = ["".join(tokens) for tokens in model.generate("A", 10, num_samples=3, temperature=1.0, seed=4, stop="E", keep_stop=True)]
    assert lines == [(1, text) for text in expected]


def test_sample_text_refuses_a_bad_setting_when_it_is_made():
    with pytest.raises(ConfigurationError) as raised:
        SampleText(1, "A", top_p=1.5)
    assert str(raised.value) == "The 'top_p' parameter of SampleText must be a float in (0, 1]. Got 1.5 instead."


def test_sample_text_refuses_bad_settings_before_training():
    callback = SampleText(1, "A", top_k=27)
    with pytest.raises(ConfigurationError) as raised:
        StatefulTrainer(units=4, epochs=1).fit(seqkit.alphabet(), callbacks=[callback])
    assert str(raised.value) == "The 'top_k' parameter of SampleText must be an int in [1, 26]. Got 27 instead."


# Subword models: stops are found in the text ------------------------------------------------
@pytest.fixture(scope="module")
def bpe_model() -> seqkit.SequenceModel:
    from seqkit.corpora import python_stdlib
    from seqkit.subword import SubwordVocabulary

    text = "".join("".join(document) for document in python_stdlib(max_bytes=60_000).sequences)[:20_000]
    vocabulary = SubwordVocabulary.train(text, kind="bpe", vocab_size=320)
    corpus = seqkit.Corpus.from_text(text[:8000], vocabulary=vocabulary, name="stdlib")
    return StatelessTrainer(window=3, encoding="embedding", units=8, epochs=1, seed=1).fit(corpus)[0]


@pytest.mark.slow  # a BPE tokenizer and a model trained, 64 samples, ~10 s
@pytest.mark.parametrize("keep", [False, True])
def test_a_subword_samples_text_holds_a_stop_only_at_its_end_when_kept(bpe_model, keep):
    samples = bpe_model.sample("def main(", 60, num_samples=32, temperature=1.5, seed=1, stop=["\n", "("], keep_stop=keep)
    assert {sample.stop_reason for sample in samples} >= {"stop"}
    for sample in samples:
        text = sample.text
        if sample.stop_reason == "stop" and keep:
            assert text.endswith("\n") or text.endswith("(")
            text = text[:-1]
        assert "\n" not in text and "(" not in text, repr(sample.text)
        assert bpe_model.join(sample.tokens).startswith(text)  # the pieces made, the last one cut in the text
