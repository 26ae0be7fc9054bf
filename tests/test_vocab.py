"""Specification of seqkit.vocab: tokens <-> ids, and the vocabulary file."""

import json
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from seqkit.errors import DataError, ModelFileError, VocabularyError
from seqkit.vocab import FORMAT_NAME, FORMAT_VERSION, Vocabulary, as_vocabulary, split_tokens

# Any non-empty string is a token: ASCII, accents, CJK, emoji, whitespace, quotes.
token_lists = st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=30, unique=True)


def raises_exactly(error_type, message):
    return pytest.raises(error_type, match=f"^{re.escape(message)}$")


# Ids ---------------------------------------------------------------------------------
def test_alphabet_maps_to_the_tutorials_char_to_int(alphabet_text):
    vocabulary = Vocabulary.from_chars(alphabet_text)
    char_to_int = dict((c, i) for i, c in enumerate(alphabet_text))
    assert {token: vocabulary.token_to_id(token) for token in alphabet_text} == char_to_int


def test_ids_follow_the_order_tokens_are_given_in():
    assert Vocabulary(["do", "re", "mi"]).encode(["mi", "re", "do"]) == [2, 1, 0]


def test_size_counts_every_token():
    vocabulary = Vocabulary(["a", "b", "c"])
    assert (vocabulary.size, len(vocabulary)) == (3, 3)


def test_tokens_are_copied_on_the_way_in():
    tokens = ["a", "b"]
    vocabulary = Vocabulary(tokens)
    tokens.append("c")
    assert vocabulary.tokens == ("a", "b")


def test_from_corpus_keeps_distinct_tokens_in_order_of_first_appearance():
    assert Vocabulary.from_corpus(["b", "a", "b", "c", "a"]).tokens == ("b", "a", "c")


def test_from_chars_splits_into_characters():
    assert Vocabulary.from_chars("hello").tokens == ("h", "e", "l", "o")


def test_from_words_splits_on_any_whitespace():
    assert Vocabulary.from_words("C D\tE\n C").tokens == ("C", "D", "E")


def test_from_text_file_reads_utf8_at_the_given_level(tmp_path):
    path = tmp_path / "song.txt"
    path.write_text("où où 日本", encoding="utf-8")
    assert Vocabulary.from_text_file(path, level="word").tokens == ("où", "日本")


def test_encode_reads_a_string_as_characters():
    assert Vocabulary.from_chars("ABC").encode("CAB") == [2, 0, 1]


def test_decode_maps_ids_back_to_tokens():
    assert Vocabulary.from_chars("ABC").decode([2, 0]) == ["C", "A"]


def test_decode_accepts_numpy_integers():
    assert Vocabulary.from_chars("ABC").decode(np.array([1, 2])) == ["B", "C"]


def test_contains_tells_known_tokens():
    vocabulary = Vocabulary(["a"])
    assert ("a" in vocabulary, "b" in vocabulary) == (True, False)


def test_vocabularies_with_the_same_tokens_are_equal_and_hash_alike():
    assert Vocabulary(["a", "b"]) == Vocabulary(["a", "b"])
    assert hash(Vocabulary(["a", "b"])) == hash(Vocabulary(["a", "b"]))
    assert Vocabulary(["a", "b"]) != Vocabulary(["b", "a"])


def test_as_vocabulary_returns_a_vocabulary_unchanged_and_builds_one_from_tokens():
    vocabulary = Vocabulary(["a"])
    assert as_vocabulary(vocabulary) is vocabulary
    assert as_vocabulary(["x", "y", "x"]).tokens == ("x", "y")


# Unknown tokens ----------------------------------------------------------------------
def test_unknown_token_is_added_at_the_end():
    vocabulary = Vocabulary(["a", "b"], unknown_token="<unk>")
    assert (vocabulary.tokens, vocabulary.unknown_id) == (("a", "b", "<unk>"), 2)


def test_unknown_token_already_among_the_tokens_keeps_its_id():
    vocabulary = Vocabulary(["<unk>", "a"], unknown_token="<unk>")
    assert (vocabulary.size, vocabulary.unknown_id) == (2, 0)


def test_unknown_tokens_map_to_the_unknown_id():
    assert Vocabulary(["a", "b"], unknown_token="<unk>").encode(["a", "z", "y"]) == [0, 2, 2]


def test_without_unknown_token_unknown_id_is_none():
    assert Vocabulary(["a"]).unknown_id is None


# Bad input ---------------------------------------------------------------------------
def test_empty_corpus_is_refused():
    with raises_exactly(
        VocabularyError,
        "Cannot build a vocabulary from an empty corpus: no tokens were given. Pass at least one token.",
    ):
        Vocabulary([])


def test_empty_text_is_refused_as_an_empty_corpus():
    with raises_exactly(
        VocabularyError,
        "Cannot build a vocabulary from an empty corpus: no tokens were given. Pass at least one token.",
    ):
        Vocabulary.from_chars("")


def test_duplicate_tokens_are_refused_and_named():
    with raises_exactly(
        VocabularyError,
        "Duplicate tokens in vocabulary: 'a', 'b'. Each token must appear once; "
        "use Vocabulary.from_corpus(tokens) to collect the distinct tokens of a corpus.",
    ):
        Vocabulary(["b", "a", "b", "c", "a"])


def test_unknown_token_without_unknown_id_is_an_error_naming_it():
    with raises_exactly(
        VocabularyError,
        "Token 'z' is not in the vocabulary of 26 tokens ('A', 'B', 'C', 'D', 'E', …). "
        "Use only tokens of the vocabulary, or build it with unknown_token='<unk>' "
        "to map unknown tokens to one id.",
    ):
        Vocabulary.from_chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ").encode("Az")


def test_unknown_token_is_a_value_error_for_callers_that_catch_those():
    with pytest.raises(ValueError):
        Vocabulary(["a"]).token_to_id("b")


def test_id_out_of_range_is_refused_with_the_valid_range():
    with raises_exactly(
        VocabularyError, "Token id 3 is out of range: valid ids are 0 to 2 for this vocabulary of 3 tokens."
    ):
        Vocabulary(["a", "b", "c"]).id_to_token(3)


def test_negative_id_is_refused_with_the_valid_range():
    with raises_exactly(
        VocabularyError, "Token id -1 is out of range: valid ids are 0 to 2 for this vocabulary of 3 tokens."
    ):
        Vocabulary(["a", "b", "c"]).decode([-1])


@pytest.mark.parametrize("token_id", [1.0, "1", True, None])
def test_non_integer_id_is_refused(token_id):
    with raises_exactly(VocabularyError, f"Token ids must be integers; got {token_id!r}."):
        Vocabulary(["a", "b"]).id_to_token(token_id)


def test_a_string_instead_of_a_token_list_is_refused_with_the_fix():
    with raises_exactly(
        VocabularyError,
        "Vocabulary(tokens) expects a list of tokens, got the string 'ABC'. "
        "Use Vocabulary.from_chars(text) for characters or Vocabulary.from_words(text) for words.",
    ):
        Vocabulary("ABC")


@pytest.mark.parametrize("token", ["", 1, None])
def test_tokens_must_be_non_empty_strings(token):
    with raises_exactly(
        VocabularyError,
        f"Every token must be a non-empty string; got {token!r}. "
        "Convert tokens to strings before building the vocabulary.",
    ):
        Vocabulary(["a", token])


def test_unknown_token_must_be_a_non_empty_string():
    with raises_exactly(VocabularyError, "The unknown token must be a non-empty string; got ''."):
        Vocabulary(["a"], unknown_token="")


def test_unknown_tokenization_level_is_refused():
    with raises_exactly(
        VocabularyError,
        "Unknown tokenization level 'line': expected 'char' or 'word'. "
        "Use level='char' for one token per character or level='word' to split on whitespace.",
    ):
        split_tokens("a b", "line")


# Properties --------------------------------------------------------------------------
@given(tokens=token_lists, data=st.data())
def test_decode_inverts_encode_for_any_tokens(tokens, data):
    vocabulary = Vocabulary(tokens)
    sequence = data.draw(st.lists(st.sampled_from(tokens), max_size=20))
    assert vocabulary.decode(vocabulary.encode(sequence)) == sequence


@given(tokens=token_lists, data=st.data())
def test_encode_inverts_decode_for_any_valid_ids(tokens, data):
    vocabulary = Vocabulary(tokens)
    ids = data.draw(st.lists(st.integers(0, len(tokens) - 1), max_size=20))
    assert vocabulary.encode(vocabulary.decode(ids)) == ids


@given(tokens=token_lists)
def test_ids_are_zero_to_size_minus_one_in_token_order(tokens):
    vocabulary = Vocabulary(tokens)
    assert vocabulary.encode(tokens) == list(range(len(tokens)))


@given(tokens=token_lists, unknown=st.one_of(st.none(), st.just("<unk>")))
def test_save_and_load_round_trip_any_tokens(tokens, unknown):
    vocabulary = Vocabulary(tokens, unknown_token=unknown)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "vocab.json"
        vocabulary.save(path)
        loaded = Vocabulary.load(path)
    assert (loaded, loaded.tokens, loaded.unknown_token) == (vocabulary, vocabulary.tokens, unknown)


# Persistence -------------------------------------------------------------------------
def test_saved_file_is_versioned_utf8_json_with_non_ascii_tokens_kept_as_they_are(tmp_path):
    path = tmp_path / "vocab.json"
    Vocabulary(["ü", "日本", "🎵"]).save(path)
    text = path.read_bytes().decode("utf-8")
    assert "日本" in text and "\\u" not in text
    assert json.loads(text) == {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "tokens": ["ü", "日本", "🎵"],
        "unknown_token": None,
    }


def test_save_creates_missing_parent_directories(tmp_path):
    path = tmp_path / "deep" / "er" / "vocab.json"
    Vocabulary(["a"]).save(path)
    assert Vocabulary.load(path) == Vocabulary(["a"])


def test_save_replaces_an_existing_file(tmp_path):
    path = tmp_path / "vocab.json"
    Vocabulary(["a"]).save(path)
    Vocabulary(["b", "c"]).save(path)
    assert Vocabulary.load(path).tokens == ("b", "c")


def test_config_round_trips_through_from_config():
    vocabulary = Vocabulary(["a", "b"], unknown_token="?")
    assert Vocabulary.from_config(vocabulary.get_config()) == vocabulary


def test_loading_a_missing_file_says_it_does_not_exist(tmp_path):
    path = tmp_path / "missing.json"
    with raises_exactly(ModelFileError, f"Vocabulary file '{path}' does not exist. Check the path."):
        Vocabulary.load(path)


def test_loading_a_directory_is_refused(tmp_path):
    with raises_exactly(ModelFileError, f"Vocabulary file '{tmp_path}' is a directory; expected a JSON file."):
        Vocabulary.load(tmp_path)


def test_loading_a_non_utf8_file_is_refused(tmp_path):
    path = tmp_path / "vocab.json"
    path.write_bytes(b'{"tokens": ["\xff"]}')
    with raises_exactly(
        ModelFileError, f"Vocabulary file '{path}' is not UTF-8 text; it is not a seqkit vocabulary."
    ):
        Vocabulary.load(path)


def test_loading_a_token_per_line_file_is_refused_as_not_json(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("A\nB\nC\n", encoding="utf-8")
    with raises_exactly(
        ModelFileError,
        f"Vocabulary file '{path}' is not valid JSON (Expecting value: line 1 column 1 (char 0)); "
        "it is not a seqkit vocabulary.",
    ):
        Vocabulary.load(path)


def test_loading_json_that_is_not_an_object_is_refused(tmp_path):
    path = tmp_path / "vocab.json"
    path.write_text('["A", "B"]', encoding="utf-8")
    with raises_exactly(
        ModelFileError, f"Vocabulary file '{path}' is not a seqkit vocabulary: expected a JSON object, found list."
    ):
        Vocabulary.load(path)


def test_loading_a_file_of_another_format_is_refused(tmp_path):
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps({"format": "keras.tokenizer", "version": 1, "tokens": ["A"]}), encoding="utf-8")
    with raises_exactly(
        ModelFileError,
        f"Vocabulary file '{path}' is not a seqkit vocabulary: its 'format' is 'keras.tokenizer', "
        "expected 'seqkit.vocabulary'. Build one with Vocabulary(...).save(path).",
    ):
        Vocabulary.load(path)


@pytest.mark.parametrize("version", [2, 0, "1", True, None])
def test_loading_a_file_of_another_version_is_refused(tmp_path, version):
    path = tmp_path / "vocab.json"
    config = {"format": FORMAT_NAME, "version": version, "tokens": ["A"], "unknown_token": None}
    path.write_text(json.dumps(config), encoding="utf-8")
    with raises_exactly(
        ModelFileError,
        f"Vocabulary file '{path}' has vocabulary format version {version!r}; this seqkit reads version 1. "
        "Upgrade seqkit or re-save the vocabulary with this version.",
    ):
        Vocabulary.load(path)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"tokens": "AB"}, "'tokens' must be a list of strings."),
        ({"tokens": ["A", 1]}, "'tokens' must be a list of strings."),
        ({"unknown_token": 0}, "'unknown_token' must be a string or null."),
        ({"unknown_token": "?"}, "its unknown token '?' is not among its tokens."),
        (
            {"tokens": ["A", "A"]},
            "Duplicate tokens in vocabulary: 'A'. Each token must appear once; "
            "use Vocabulary.from_corpus(tokens) to collect the distinct tokens of a corpus.",
        ),
    ],
)
def test_loading_a_corrupted_vocabulary_says_what_is_wrong(tmp_path, fields, problem):
    path = tmp_path / "vocab.json"
    config = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "tokens": ["A", "B"], "unknown_token": None}
    path.write_text(json.dumps({**config, **fields}), encoding="utf-8")
    with raises_exactly(ModelFileError, f"Vocabulary file '{path}' is corrupted: {problem}"):
        Vocabulary.load(path)


def test_a_corrupted_vocabulary_file_is_an_os_error_for_callers_that_catch_those(tmp_path):
    path = tmp_path / "vocab.json"
    path.write_text("{}", encoding="utf-8")
    with pytest.raises(OSError):
        Vocabulary.load(path)


def test_building_from_a_missing_text_file_is_a_data_error(tmp_path):
    path = tmp_path / "corpus.txt"
    with raises_exactly(DataError, f"Text file '{path}' does not exist. Check the path."):
        Vocabulary.from_text_file(path)


def test_a_token_with_a_lone_surrogate_is_refused():
    with pytest.raises(VocabularyError) as error:
        Vocabulary(["a", "\udc80"])
    assert str(error.value) == (
        "Token '\\udc80' is not valid Unicode text (it holds a lone surrogate) and cannot be saved "
        "as UTF-8. Decode your input with errors='replace' first."
    )
