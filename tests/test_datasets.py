"""Specification of seqkit.datasets: token sequences to learn from."""

import re

import pytest

from seqkit.datasets import ALPHABET, Corpus, alphabet, load_text, read_text
from seqkit.errors import DataError, VocabularyError
from seqkit.vocab import Vocabulary


def raises_exactly(error_type, message):
    return pytest.raises(error_type, match=f"^{re.escape(message)}$")


# The alphabet ------------------------------------------------------------------------
def test_alphabet_is_the_tutorials_26_capital_letters(alphabet_text):
    corpus = alphabet()
    assert (ALPHABET, corpus.tokens, len(corpus)) == (alphabet_text, tuple(alphabet_text), 26)


def test_alphabet_vocabulary_maps_a_to_0_and_z_to_25():
    vocabulary = alphabet().vocabulary()
    assert (vocabulary.token_to_id("A"), vocabulary.token_to_id("Z"), vocabulary.size) == (0, 25, 26)


def test_alphabet_is_one_char_level_sequence_named_alphabet():
    corpus = alphabet()
    assert (len(corpus.sequences), corpus.level, corpus.name) == (1, "char", "alphabet")


def test_alphabet_encodes_to_ids_0_to_25(alphabet_ids):
    corpus = alphabet()
    assert corpus.encode(corpus.vocabulary()) == [alphabet_ids.tolist()]


# Building corpora --------------------------------------------------------------------
def test_from_text_at_char_level_keeps_every_character():
    assert Corpus.from_text("a b").tokens == ("a", " ", "b")


def test_from_text_at_word_level_splits_on_whitespace():
    assert Corpus.from_text("do re\nmi  do", level="word").tokens == ("do", "re", "mi", "do")


def test_from_tokens_keeps_the_tokens_as_given():
    corpus = Corpus.from_tokens(["C4", "E4", "G4"])
    assert (corpus.tokens, corpus.level) == (("C4", "E4", "G4"), "word")


def test_from_sequences_keeps_each_sequence_apart():
    assert Corpus.from_sequences(["AB", ["X", "YZ"]]).sequences == (("A", "B"), ("X", "YZ"))


def test_tokens_concatenate_the_sequences_and_len_counts_them():
    corpus = Corpus.from_sequences(["AB", "CDE"])
    assert (corpus.tokens, len(corpus)) == (("A", "B", "C", "D", "E"), 5)


def test_vocabulary_is_the_distinct_tokens_across_sequences_in_first_appearance_order():
    assert Corpus.from_sequences(["BA", "CA"]).vocabulary().tokens == ("B", "A", "C")


def test_vocabulary_can_add_an_unknown_token():
    assert alphabet().vocabulary(unknown_token="?").unknown_id == 26


def test_encode_gives_one_id_list_per_sequence():
    corpus = Corpus.from_sequences(["AB", "BA"])
    assert corpus.encode(Vocabulary(["A", "B"])) == [[0, 1], [1, 0]]


def test_encode_with_a_vocabulary_missing_a_token_names_the_token():
    with raises_exactly(
        VocabularyError,
        "Token 'C' is not in the vocabulary of 2 tokens ('A', 'B'). Use only tokens of the vocabulary, "
        "or build it with unknown_token='<unk>' to map unknown tokens to one id.",
    ):
        Corpus.from_text("ABC").encode(Vocabulary(["A", "B"]))


# Files -------------------------------------------------------------------------------
def test_load_text_reads_utf8_and_names_the_corpus_after_the_file(tmp_path):
    path = tmp_path / "lied.txt"
    path.write_text("Grüße 日本", encoding="utf-8")
    corpus = load_text(path)
    assert (corpus.tokens[:5], corpus.name, corpus.level) == (("G", "r", "ü", "ß", "e"), "lied.txt", "char")


def test_load_text_at_word_level(tmp_path):
    path = tmp_path / "scale.txt"
    path.write_text("C D E F G A B C\n", encoding="utf-8")
    assert load_text(path, level="word").vocabulary().tokens == ("C", "D", "E", "F", "G", "A", "B")


def test_read_text_returns_the_files_text(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes("é\n".encode())
    assert read_text(path) == "é\n"


# Bad input ---------------------------------------------------------------------------
def test_empty_text_is_refused():
    with raises_exactly(
        DataError,
        "The corpus 'text' is empty: it holds no tokens. Give a text, a file or a token list with at least two tokens.",
    ):
        Corpus.from_text("")


def test_a_corpus_without_sequences_is_refused():
    with raises_exactly(
        DataError,
        "The corpus 'corpus' is empty: it holds no tokens. "
        "Give a text, a file or a token list with at least two tokens.",
    ):
        Corpus(())


def test_a_corpus_of_empty_sequences_is_refused():
    with raises_exactly(
        DataError,
        "The corpus 'sequences' is empty: it holds no tokens. "
        "Give a text, a file or a token list with at least two tokens.",
    ):
        Corpus.from_sequences(["", ""])


def test_missing_file_is_refused(tmp_path):
    path = tmp_path / "nowhere.txt"
    with raises_exactly(DataError, f"Text file '{path}' does not exist. Check the path."):
        load_text(path)


def test_directory_is_refused(tmp_path):
    with raises_exactly(DataError, f"'{tmp_path}' is a directory; expected a UTF-8 text file."):
        load_text(tmp_path)


def test_non_utf8_file_is_refused_with_the_offending_byte(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("abc é".encode("latin-1"))
    with raises_exactly(
        DataError, f"Text file '{path}' is not valid UTF-8 (byte 4: 0xe9). Convert it to UTF-8, e.g. with iconv."
    ):
        load_text(path)


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("", encoding="utf-8")
    with raises_exactly(
        DataError, f"Text file '{path}' is empty: it holds no characters. Give a file with at least two tokens."
    ):
        load_text(path)


def test_whitespace_only_file_is_empty_at_word_level(tmp_path):
    path = tmp_path / "blank.txt"
    path.write_text(" \n\t\n", encoding="utf-8")
    with raises_exactly(
        DataError, f"Text file '{path}' is empty: it holds no words. Give a file with at least two tokens."
    ):
        load_text(path, level="word")


def test_a_leading_byte_order_mark_is_not_read_as_a_token(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffABC".encode("utf-8"))
    assert load_text(path).tokens == ("A", "B", "C")


# The level of given tokens ------------------------------------------------------------------
def test_given_tokens_are_at_the_level_they_fit():
    assert Corpus.from_tokens(list("ab cd")).level == "char"
    assert Corpus.from_tokens(["do", "re"]).level == "word"
    assert Corpus.from_sequences([["do", "re"], ["mi"]]).level == "word"


def test_a_model_of_given_characters_saves_and_loads(tmp_path):
    from seqkit.sequence_model import SequenceModel
    from seqkit.trainers import StatelessTrainer

    model, _ = StatelessTrainer(window=2, units=4, epochs=1).fit(list("ab cd ab cd"))
    assert SequenceModel.load(model.save(tmp_path / "chars.seqkit")).level == "char"


@pytest.mark.parametrize(
    ("tokens", "level", "message"),
    [
        (["do", "re"], "char",
         "The corpus 'tokens' is at level 'char', but its token 'do' is not one character, so text made of its "
         "tokens would not split back into them. Give level='word' if the tokens are words."),
        (["do", "re mi"], None,
         "The corpus 'tokens' is at level 'word', but its token 're mi' is not one word (it is empty or holds "
         "whitespace), so text made of its tokens would not split back into them. Split it into words."),
    ],
)
def test_tokens_that_do_not_fit_their_level_are_refused(tokens, level, message):
    with pytest.raises(DataError) as error:
        Corpus.from_tokens(tokens, level=level)
    assert str(error.value) == message
