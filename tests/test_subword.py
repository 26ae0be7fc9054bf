"""Specification of subword vocabularies: byte-level BPE and Unigram pieces (seqkit.subword)."""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import pickle
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqkit.corpora import python_stdlib_files
from seqkit.datasets import Corpus, load_text, split_text
from seqkit.errors import ConfigurationError, DataError, ModelFileError, VocabularyError
from seqkit.subword import BYTE_PIECES, FORMAT_NAME, SUBWORD_LEVELS, SubwordVocabulary
from seqkit.vocab import Vocabulary, split_tokens

ROOT = Path(__file__).resolve().parents[1]
KINDS = list(SUBWORD_LEVELS)
SAMPLE = "low lower lowest newer newest wider widest " * 30


def raises_exactly(error_type, message):
    return pytest.raises(error_type, match=f"^{re.escape(message)}$")


@functools.cache
def trained(kind: str, vocab_size: int = 300) -> SubwordVocabulary:
    return SubwordVocabulary.train(SAMPLE, kind=kind, vocab_size=vocab_size)


@functools.cache
def stdlib_text(max_bytes: int) -> str:
    return "".join(text for _, text in _utf8_files(python_stdlib_files(max_bytes=max_bytes)))


@functools.cache
def code_vocabulary(kind: str) -> SubwordVocabulary:
    return SubwordVocabulary.train(stdlib_text(300_000), kind=kind, vocab_size=1000)


# Training ------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_training_gives_a_vocabulary_of_pieces_at_its_level(kind):
    vocabulary = trained(kind)
    assert isinstance(vocabulary, Vocabulary)
    assert vocabulary.level == kind
    assert BYTE_PIECES < vocabulary.size <= 300
    assert vocabulary.unknown_token is None


@pytest.mark.parametrize("kind", KINDS)
def test_every_byte_piece_is_in_the_vocabulary(kind):
    vocabulary = SubwordVocabulary.train("aaaa", kind=kind, vocab_size=BYTE_PIECES + 1)
    assert vocabulary.size == BYTE_PIECES + 1
    assert vocabulary.split("é 日\n") == ["Ã", "©", "Ġ", "æ", "Ĺ", "¥", "Ċ"]


@pytest.mark.parametrize("kind", KINDS)
def test_the_same_text_gives_the_same_vocabulary(kind):
    first = SubwordVocabulary.train(stdlib_text(100_000), kind=kind, vocab_size=600)
    second = SubwordVocabulary.train(stdlib_text(100_000), kind=kind, vocab_size=600)
    assert first == second and first.tokenizer_json == second.tokenizer_json


def test_the_same_text_gives_the_same_vocabulary_in_another_process():
    script = textwrap.dedent("""
        import hashlib, sys
        from seqkit.subword import SubwordVocabulary
        text = sys.stdin.read()
        for kind in ("bpe", "unigram"):
            vocabulary = SubwordVocabulary.train(text, kind=kind, vocab_size=400)
            print(hashlib.sha256(vocabulary.tokenizer_json.encode()).hexdigest())
    """)
    text = stdlib_text(60_000)
    completed = subprocess.run(
        [sys.executable, "-c", script], input=text, capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert completed.returncode == 0, completed.stderr
    here = [hashlib.sha256(SubwordVocabulary.train(text, kind=kind, vocab_size=400).tokenizer_json.encode()).hexdigest()
            for kind in KINDS]
    assert completed.stdout.split() == here


def test_several_documents_train_one_vocabulary():
    vocabulary = SubwordVocabulary.train(["low lower", "newer newest"], kind="bpe", vocab_size=270)
    assert vocabulary.join(vocabulary.split("lower newest")) == "lower newest"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"kind": "wordpiece", "vocab_size": 300},
         "The 'kind' parameter of SubwordVocabulary.train must be 'bpe' or 'unigram'. Got 'wordpiece' instead."),
        ({"kind": "unigram", "vocab_size": 256},
         "The 'vocab_size' parameter of SubwordVocabulary.train must be an int >= 257. Got 256 instead."),
        ({"kind": "bpe", "vocab_size": True},
         "The 'vocab_size' parameter of SubwordVocabulary.train must be an int >= 257. Got True instead."),
    ],
)
def test_training_parameters_are_checked(arguments, message):
    with raises_exactly(ConfigurationError, message):
        SubwordVocabulary.train(SAMPLE, **arguments)


def test_training_texts_must_be_strings():
    with raises_exactly(
        ConfigurationError,
        "The 'texts' parameter of SubwordVocabulary.train must be a string or a sequence of strings. "
        "Got ['a', 3] instead.",
    ):
        SubwordVocabulary.train(["a", 3], kind="bpe", vocab_size=300)


@pytest.mark.parametrize("texts", ["", [], ["", ""]])
def test_training_on_no_text_is_refused(texts):
    with raises_exactly(
        DataError, "Cannot train a subword vocabulary on empty text: give the training text, or several documents."
    ):
        SubwordVocabulary.train(texts, kind="unigram", vocab_size=300)


# Split and join ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "text",
    ["", "\n", "\t\tx  y   z\n\n", "\r\n", "\x00\x7f", "naïve café", "日本語のテキスト", "🎉👩‍👩‍👧 ok", "Ω≈ç√∫", " leading"],
)
def test_join_gives_back_the_text_split(kind, text):
    vocabulary = trained(kind)
    pieces = vocabulary.split(text)
    assert all(piece in vocabulary for piece in pieces)
    assert vocabulary.join(pieces) == text


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=200, deadline=None)
@given(text=st.text())
def test_join_gives_back_any_text(kind, text):
    vocabulary = trained(kind)
    assert vocabulary.join(vocabulary.split(text)) == text


@pytest.mark.parametrize("kind", KINDS)
def test_a_megabyte_of_python_source_comes_back_exactly(kind):
    text = stdlib_text(1_400_000)[-1_000_000:]  # mostly files the vocabulary was not trained on
    vocabulary = code_vocabulary(kind)
    pieces = vocabulary.split(text)
    assert vocabulary.join(pieces) == text
    assert len(pieces) < len(text) / 2  # pieces are longer than characters


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_every_file_of_the_standard_library_comes_back_exactly(kind):
    vocabulary = code_vocabulary(kind)
    texts = dict(_utf8_files(python_stdlib_files()))
    wrong = [str(path) for path, text in texts.items() if vocabulary.join(vocabulary.split(text)) != text]
    assert len(texts) > 1000 and wrong == []


def _utf8_files(paths):
    """The files that are UTF-8 text, and their text."""
    for path in paths:
        try:
            yield path, path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue


def test_split_gives_the_pieces_in_order():
    assert trained("bpe").split(" lowest newer") == ["Ġlowest", "Ġnewer"]


def test_characters_counts_what_the_pieces_stand_for():
    vocabulary = trained("bpe")
    text = " lowest newer é\n"
    pieces = vocabulary.split(text)
    assert vocabulary.characters(pieces) == len(text) == 16
    assert len(pieces) < vocabulary.characters(pieces)


def test_encode_splits_a_string_and_maps_a_list_of_pieces():
    vocabulary = trained("bpe")
    assert vocabulary.encode(" lowest") == vocabulary.encode(["Ġlowest"]) == [vocabulary.token_to_id("Ġlowest")]
    assert vocabulary.encode_array(" lowest").tolist() == vocabulary.encode(" lowest")
    assert vocabulary.decode(vocabulary.encode(" lowest newer")) == ["Ġlowest", "Ġnewer"]


def test_join_refuses_a_string():
    with raises_exactly(
        VocabularyError, "join takes a list of pieces; got the string 'Ġlowest'. Pass vocabulary.split(text)."
    ):
        trained("bpe").join("Ġlowest")


def test_join_refuses_a_piece_outside_the_vocabulary():
    vocabulary = trained("unigram")
    with raises_exactly(
        VocabularyError,
        f"Piece 'not a piece' is not in this unigram vocabulary of {vocabulary.size} pieces. "
        "Join only pieces of the vocabulary, as split and generate give them.",
    ):
        vocabulary.join(["Ġ", "not a piece"])


def test_split_refuses_what_is_not_text():
    with raises_exactly(VocabularyError, "split takes a string of text; got list."):
        trained("bpe").split(["a"])


def test_a_lone_surrogate_is_refused_in_one_line():
    with raises_exactly(
        VocabularyError,
        "The text holds a lone surrogate, which is not valid Unicode and has no UTF-8 bytes. "
        "Decode your input with errors='replace' first.",
    ):
        trained("bpe").split("a\udc80b")


def test_pieces_ending_inside_a_character_join_to_a_replacement_character():
    vocabulary = trained("bpe")
    assert vocabulary.split("é") == ["Ã", "©"]
    assert vocabulary.join(["Ã"]) == "\ufffd"


# Identity -------------------------------------------------------------------------------
def test_a_plain_vocabulary_of_the_same_pieces_is_not_equal():
    vocabulary = trained("bpe")
    assert Vocabulary(vocabulary.tokens) != vocabulary
    assert vocabulary != Vocabulary(vocabulary.tokens)


def test_vocabularies_of_other_tokenizers_are_not_equal():
    assert trained("bpe") != trained("unigram")
    assert trained("bpe") != trained("bpe", 270)


@pytest.mark.parametrize("kind", KINDS)
def test_pickling_and_copying_keep_the_vocabulary(kind):
    vocabulary = trained(kind)
    for copied in (pickle.loads(pickle.dumps(vocabulary)), copy.deepcopy(vocabulary)):
        assert copied == vocabulary and hash(copied) == hash(vocabulary)
        assert copied.split(SAMPLE[:40]) == vocabulary.split(SAMPLE[:40])


def test_repr_names_the_level_and_the_size():
    vocabulary = trained("bpe")
    assert repr(vocabulary).startswith("SubwordVocabulary('bpe', [")
    assert repr(vocabulary).endswith(f"size={vocabulary.size})")


# Persistence -------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_the_config_carries_the_tokenizer_as_json(kind):
    vocabulary = trained(kind)
    config = vocabulary.get_config()
    assert (config["format"], config["version"], config["level"]) == (FORMAT_NAME, 1, kind)
    assert config["tokens"] == list(vocabulary.tokens) and config["unknown_token"] is None
    assert json.loads(config["tokenizer"])["model"]["type"] == {"bpe": "BPE", "unigram": "Unigram"}[kind]


@pytest.mark.parametrize("kind", KINDS)
def test_the_plain_vocabulary_reads_a_subword_config_as_a_subword_vocabulary(kind):
    vocabulary = trained(kind)
    loaded = Vocabulary.from_json(vocabulary.to_json())
    assert type(loaded) is SubwordVocabulary and loaded == vocabulary
    assert loaded.split(SAMPLE[:50]) == vocabulary.split(SAMPLE[:50])


def test_a_saved_vocabulary_loads_from_its_file(tmp_path):
    vocabulary = trained("unigram")
    vocabulary.save(tmp_path / "pieces.json")
    assert Vocabulary.load(tmp_path / "pieces.json") == vocabulary
    assert SubwordVocabulary.load(tmp_path / "pieces.json") == vocabulary


def test_a_subword_vocabulary_refuses_a_plain_config():
    with raises_exactly(
        ModelFileError,
        "vocabulary is not a seqkit vocabulary: its 'format' is 'seqkit.vocabulary', expected "
        "'seqkit.subword-vocabulary'. Build one with SubwordVocabulary(...).save(path).",
    ):
        SubwordVocabulary.from_config(Vocabulary(["a"]).get_config())


def _config(**changes):
    return {**trained("bpe").get_config(), **changes}


def test_a_corrupted_tokenizer_is_refused_in_one_line():
    broken = trained("bpe").tokenizer_json.replace('"merges":[', '"merges":[3,', 1)
    expected = re.escape(
        "bundle 'm.seqkit' is corrupted: The subword tokenizer cannot be read by tokenizers (data did not match any "
        "variant of untagged enum MergeType at line 1 column COLUMN). Save the vocabulary again."
    ).replace("COLUMN", r"\d+")
    with pytest.raises(ModelFileError, match=f"^{expected}$"):
        Vocabulary.from_config(_config(tokenizer=broken), source="bundle 'm.seqkit'")


def test_a_tokenizer_with_a_gap_in_its_ids_is_refused():
    vocabulary = trained("bpe")
    broken = vocabulary.tokenizer_json.replace('"vocab":{', f'"vocab":{{"zz":{vocabulary.size + 1},', 1)
    with raises_exactly(
        ModelFileError,
        f"vocabulary is corrupted: The subword tokenizer's ids have a gap: no piece has id {vocabulary.size}. "
        "Save the vocabulary again.",
    ):
        Vocabulary.from_config(_config(tokenizer=broken))


def test_a_tokenizer_that_is_not_json_is_refused():
    with raises_exactly(
        ModelFileError,
        "vocabulary is corrupted: The subword tokenizer is not valid JSON (Expecting value: line 1 column 1 "
        "(char 0)). Save the vocabulary again.",
    ):
        Vocabulary.from_config(_config(tokenizer="not json"))


def test_a_tokenizer_whose_pieces_disagree_with_the_tokens_is_refused():
    tokens = list(trained("bpe").tokens)
    tokens[260], tokens[261] = tokens[261], tokens[260]
    with raises_exactly(
        ModelFileError,
        f"vocabulary is corrupted: its tokenizer's {len(tokens)} pieces disagree with its {len(tokens)} tokens "
        f"(id 260: {tokens[261]!r} in the tokenizer, {tokens[260]!r} in 'tokens'). Save the vocabulary again.",
    ):
        Vocabulary.from_config(_config(tokens=tokens))


def test_a_token_list_shorter_than_the_tokenizer_is_refused():
    tokens = list(trained("bpe").tokens)
    with raises_exactly(
        ModelFileError,
        f"vocabulary is corrupted: its tokenizer's {len(tokens)} pieces disagree with its {len(tokens) - 1} tokens "
        f"(id {len(tokens) - 1}: {tokens[-1]!r} in the tokenizer, nothing in 'tokens'). Save the vocabulary again.",
    ):
        Vocabulary.from_config(_config(tokens=tokens[:-1]))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tokenizer": None}, "vocabulary is corrupted: 'tokenizer' must be the tokenizer's JSON string. "
                              "Save the vocabulary again."),
        ({"level": "unigram"}, "vocabulary is corrupted: its 'level' is 'unigram', but its tokenizer is a 'bpe' one. "
                               "Save the vocabulary again."),
        ({"unknown_token": "Ġ"}, "vocabulary is corrupted: a subword vocabulary has no unknown token; got 'Ġ'. "
                                 "Save the vocabulary again."),
        ({"version": 2}, "vocabulary has vocabulary format version 2; this seqkit reads version 1. Upgrade seqkit or "
                         "re-save the vocabulary with this version."),
    ],
)
def test_inconsistent_configs_are_refused(changes, message):
    with raises_exactly(ModelFileError, message):
        Vocabulary.from_config(_config(**changes))


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda spec: spec.update(normalizer={"type": "Lowercase"}), "it has a normalizer"),
        (lambda spec: spec["pre_tokenizer"].update(add_prefix_space=True),
         "its pre-tokenizer is not ByteLevel(add_prefix_space=False)"),
        (lambda spec: spec.update(decoder=None), "its decoder is not ByteLevel"),
        (lambda spec: spec["model"].update(dropout=0.1),
         "its BPE model has dropout, which splits the same text differently each time"),
        (lambda spec: spec["model"].update(type="WordPiece"), "its model is 'WordPiece', not 'BPE' or 'Unigram'"),
    ],
)
def test_a_tokenizer_that_would_not_give_texts_back_exactly_is_refused(edit, problem):
    spec = json.loads(trained("bpe").tokenizer_json)
    edit(spec)
    with raises_exactly(
        VocabularyError,
        f"The subword tokenizer is not one that gives every text back exactly: {problem}. "
        "Train one with SubwordVocabulary.train(texts, kind='bpe', vocab_size=...).",
    ):
        SubwordVocabulary(json.dumps(spec))


def test_a_tokenizer_without_every_byte_piece_is_refused():
    spec = json.loads(trained("unigram").tokenizer_json)
    spec["model"]["vocab"] = [entry for entry in spec["model"]["vocab"] if entry[0] != "Ā"]
    with raises_exactly(
        VocabularyError,
        "The subword tokenizer lacks 1 of the 256 byte pieces (first 'Ā'), so some texts cannot be split. "
        "Train it with SubwordVocabulary.train, which keeps them all.",
    ):
        SubwordVocabulary(json.dumps(spec))


# Corpora ---------------------------------------------------------------------------------
def test_a_corpus_of_text_takes_the_vocabularys_level_and_pieces():
    vocabulary = trained("bpe")
    corpus = Corpus.from_text(" lowest newer", vocabulary=vocabulary, name="words")
    assert (corpus.level, corpus.name, corpus.tokens) == ("bpe", "words", ("Ġlowest", "Ġnewer"))
    assert corpus.vocabulary() is vocabulary


def test_a_corpus_of_documents_splits_each_one():
    vocabulary = trained("unigram")
    corpus = Corpus.from_sequences(["low", " newer"], level="unigram", vocabulary=vocabulary)
    assert corpus.sequences == (tuple(vocabulary.split("low")), tuple(vocabulary.split(" newer")))


def test_a_text_file_loads_as_a_subword_corpus(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("lowest\nnewer\n", encoding="utf-8")
    corpus = load_text(path, vocabulary=trained("bpe"))
    assert (corpus.level, corpus.name) == ("bpe", "words.txt")
    assert trained("bpe").join(corpus.tokens) == "lowest\nnewer\n"


def test_a_subword_level_without_its_vocabulary_is_refused():
    with raises_exactly(
        VocabularyError,
        "Level 'unigram' splits text with a trained tokenizer: give "
        "vocabulary=SubwordVocabulary.train(text, kind='unigram', vocab_size=...).",
    ):
        Corpus.from_text("low", level="unigram")


def test_a_vocabulary_of_another_level_is_refused():
    with raises_exactly(
        VocabularyError,
        "The vocabulary splits text into 'bpe' pieces, but level is 'word'. Give level='bpe', or leave level out.",
    ):
        split_text("low", "word", trained("bpe"))


def test_a_plain_vocabulary_does_not_split_text():
    with raises_exactly(
        VocabularyError,
        "vocabulary= splits text into subword pieces: it must be a SubwordVocabulary; got a Vocabulary. "
        "Leave it out for the char and word levels.",
    ):
        Corpus.from_text("low", vocabulary=Vocabulary(["l", "o", "w"]))


def test_a_subword_corpus_that_lost_its_vocabulary_does_not_guess_one():
    corpus = Corpus((("Ġlow",),), "bpe", "cut")
    with raises_exactly(
        VocabularyError,
        "The bpe corpus 'cut' does not hold the subword vocabulary that split it. Pass that vocabulary on "
        "(fit(corpus, vocabulary=...)), or make the corpus with Corpus.from_text(text, vocabulary=...).",
    ):
        corpus.vocabulary()


def test_a_subword_corpus_has_no_unknown_token():
    corpus = Corpus.from_text("low", vocabulary=trained("bpe"))
    with raises_exactly(
        VocabularyError,
        "A bpe vocabulary has no unknown token: every text splits into its pieces. Leave unknown_token out.",
    ):
        corpus.vocabulary(unknown_token="<unk>")


def test_a_corpus_level_must_match_its_vocabulary():
    with raises_exactly(
        DataError,
        "The corpus 'corpus' is at level 'char', but its subword vocabulary splits 'bpe' pieces. Give level='bpe'.",
    ):
        Corpus((("Ġlow",),), "char", subword=trained("bpe"))


def test_split_tokens_points_subword_levels_to_their_tokenizer():
    with raises_exactly(
        VocabularyError,
        "Level 'bpe' splits text with a trained tokenizer, not with split_tokens. Use SubwordVocabulary.split(text) "
        "(seqkit.subword), or Corpus.from_text(text, vocabulary=...).",
    ):
        split_tokens("low", "bpe")  # type: ignore[arg-type]


# Models: bundles and export ------------------------------------------------------------------
@pytest.fixture(scope="module")
def bpe_model():
    from seqkit.trainers import StatelessTrainer

    vocabulary = SubwordVocabulary.train(stdlib_text(20_000), kind="bpe", vocab_size=320)
    corpus = Corpus.from_text(stdlib_text(20_000)[:6000], vocabulary=vocabulary, name="stdlib")
    model, _ = StatelessTrainer(window=3, encoding="embedding", units=8, epochs=1).fit(corpus)
    return model


def test_a_model_trained_on_a_subword_corpus_keeps_the_subword_vocabulary(bpe_model):
    assert isinstance(bpe_model.vocabulary, SubwordVocabulary)
    assert bpe_model.spec["corpus"]["level"] == "bpe"


def test_a_model_reads_a_string_prompt_with_its_tokenizer(bpe_model):
    prompt = "def main():\n    return"
    generated = bpe_model.generate(prompt, 6)
    assert generated == bpe_model.generate(bpe_model.vocabulary.split(prompt), 6)
    assert bpe_model.predict_next(prompt, 3) == bpe_model.predict_next(bpe_model.vocabulary.split(prompt), 3)


@pytest.mark.slow
def test_a_bpe_bundle_loads_and_generates_in_a_fresh_process(bpe_model, tmp_path):
    path = tmp_path / "code.seqkit"
    bpe_model.save(path)
    prompt = "import os\n"
    script = textwrap.dedent(f"""
        import json
        from seqkit.sequence_model import SequenceModel
        model = SequenceModel.load({str(path)!r})
        pieces = model.generate(model.vocabulary.split({prompt!r}), 8)
        print(json.dumps({{"kind": type(model.vocabulary).__name__, "level": model.vocabulary.level,
                          "pieces": pieces, "text": model.vocabulary.join(pieces)}}))
    """)
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=180, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    expected = bpe_model.generate(bpe_model.vocabulary.split(prompt), 8)
    assert (result["kind"], result["level"], result["pieces"]) == ("SubwordVocabulary", "bpe", expected)
    assert result["text"] == bpe_model.vocabulary.join(expected)


@pytest.mark.parametrize(("kind", "name"), [("bpe", "BPE"), ("unigram", "Unigram")])
def test_export_of_a_subword_model_is_refused_saying_what_works(kind, name, tmp_path):
    from seqkit.export import export_model

    model = SimpleNamespace(vocabulary=trained(kind), network=None, layout=None, window_length=1)
    with raises_exactly(
        ConfigurationError,
        f"Export of a model with a {name} vocabulary is not supported: its tokenizer cannot run inside the "
        "TensorFlow graph. Export a char or word model, or serve this one with seqkit "
        "(SequenceModel.load + generate).",
    ):
        export_model(model, tmp_path / "model.keras", "keras")
    assert not (tmp_path / "model.keras").exists()


def test_export_of_the_trained_bpe_model_is_refused(bpe_model, tmp_path):
    from seqkit.export import serving_network

    with pytest.raises(ConfigurationError, match="^Export of a model with a BPE vocabulary is not supported"):
        bpe_model.export(tmp_path / "saved")
    with pytest.raises(ConfigurationError, match="^Export of a model with a BPE vocabulary is not supported"):
        serving_network(bpe_model)
