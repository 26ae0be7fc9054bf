"""Specification of seqkit.probes: per-character and per-token probes of a text's state.

Every probe value is the state *after reading* its character; the expected arrays
below are written out character by character on crafted texts.
"""

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqkit.errors import ConfigurationError, DataError
from seqkit.probes import (
    BUILTIN_PROBES,
    SYNTAXES,
    Probe,
    builtin_probe,
    callable_probe,
    regex_probe,
    resolve_probe,
    token_labels,
)

BUILTIN_NAMES = "string, comment, bracket_depth, line_position, indentation, word_start"


def raises_exactly(error_type, message):
    return pytest.raises(error_type, match=f"^{re.escape(message)}$")


def labels(name, text, syntax="python"):
    return builtin_probe(name, syntax=syntax).labels(text).tolist()


# Strings --------------------------------------------------------------------------------
def test_string_probe_is_the_state_after_reading_each_character():
    assert labels("string", 'a"bc"d') == [0, 1, 1, 1, 0, 0]


def test_labels_are_float64_one_per_character():
    values = builtin_probe("string").labels('a"bc"d')
    assert values.dtype == np.float64 and values.shape == (6,)


def test_string_probe_escaped_quote_does_not_close():
    #                          "  a  \  "  b  "  c
    assert labels("string", r'"a\"b"c') == [1, 1, 1, 1, 1, 0, 0]


def test_escaped_backslash_does_not_escape_the_closing_quote():
    #                          "  a  \  \  "  b
    assert labels("string", r'"a\\"b') == [1, 1, 1, 1, 0, 0]


def test_newline_ends_an_unclosed_string_and_is_labelled_0():
    #                          d  o  n  '  t  \n x  "  y
    assert labels("string", "don't\nx\"y") == [0, 0, 0, 1, 1, 0, 0, 1, 1]


def test_empty_string_opens_then_closes():
    #                          '  '  x  '  y  '
    assert labels("string", "''x'y'") == [1, 0, 0, 1, 1, 0]


def test_triple_quoted_string():
    # A left-to-right reader: one open quote, the empty string "" closed, then a triple string;
    # inside it newlines and lone quotes are contents; of the closing """ only the third closes.
    #                          "  "  "  a  \n "  b  "  "  "  c
    assert labels("string", '"""a\n"b"""c') == [1, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0]


def test_escaped_quote_inside_triple_single_quoted_string_does_not_close():
    #                          '  '  '  a  \  '  '  '  b  '  '  '
    assert labels("string", r"'''a\'''b'''") == [1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]


def test_hash_inside_string_opens_no_comment():
    assert labels("string", '"#"x') == [1, 1, 0, 0]
    assert labels("comment", '"#"x') == [0, 0, 0, 0]


# Comments -------------------------------------------------------------------------------
def test_python_comment_runs_to_the_newline():
    #                           x  #  a  '  b  \n y
    assert labels("comment", "x#a'b\ny") == [0, 1, 1, 1, 1, 0, 0]


def test_quote_inside_comment_opens_nothing():
    assert labels("string", "x#a'b\ny") == [0, 0, 0, 0, 0, 0, 0]


def test_c_line_comment():
    #                           a  /  /  b  '  \n c
    assert labels("comment", "a//b'\nc", "c") == [0, 0, 1, 1, 1, 0, 0]
    assert labels("string", "a//b'\nc", "c") == [0, 0, 0, 0, 0, 0, 0]


def test_c_block_comment():
    #                           a  /  *  b  \n *  /  c
    assert labels("comment", "a/*b\n*/c", "c") == [0, 0, 1, 1, 1, 1, 0, 0]


def test_c_block_comment_does_not_close_on_its_own_star():
    #                           /  *  /  x  *  /
    assert labels("comment", "/*/x*/", "c") == [0, 1, 1, 1, 1, 0]


def test_c_char_literals_and_strings_hold_each_others_quotes():
    #                          '  "  '  "  '  "
    assert labels("string", "'\"'\"'\"", "c") == [1, 1, 0, 1, 1, 0]


def test_c_slashes_in_a_string_or_a_division_open_no_comment():
    assert labels("comment", '"//"/x', "c") == [0, 0, 0, 0, 0, 0]
    assert labels("string", '"//"/x', "c") == [1, 1, 1, 0, 0, 0]


def test_syntax_chooses_the_comment_markers():
    #                             #  _  x  _  /  /  _  y
    assert labels("comment", "# x // y", "python") == [1, 1, 1, 1, 1, 1, 1, 1]
    assert labels("comment", "# x // y", "c") == [0, 0, 0, 0, 0, 1, 1, 1]


def test_unterminated_literals_run_to_the_end_of_the_text():
    assert labels("string", 'x"""a\nb') == [0, 1, 0, 1, 1, 1, 1]
    assert labels("comment", "x/*a\nb", "c") == [0, 0, 1, 1, 1, 1]


# Brackets -------------------------------------------------------------------------------
def test_nested_brackets_depth_exact():
    #                                 f  (  [  {  a  }  ]  ,  _  (  b  )  )
    assert labels("bracket_depth", "f([{a}], (b))") == [0, 1, 2, 3, 3, 2, 1, 1, 1, 2, 2, 1, 0]


def test_brackets_inside_strings_and_comments_do_not_count():
    #                                 (  "  (  #  "  #  (  \n )
    assert labels("bracket_depth", '("(#"#(\n)') == [1, 1, 1, 1, 1, 1, 1, 1, 0]


def test_unmatched_closing_bracket_never_takes_the_depth_below_zero():
    assert labels("bracket_depth", "())(") == [1, 0, 0, 1]


# Lines and words --------------------------------------------------------------------------
def test_line_position_and_indentation():
    #                                 _  _  a  b  \n \t c  \n
    assert labels("line_position", "  ab\n\tc\n") == [1, 2, 3, 4, 0, 1, 2, 0]
    assert labels("indentation", "  ab\n\tc\n") == [1, 2, 2, 2, 0, 1, 1, 0]


def test_indentation_counts_only_leading_blanks():
    assert labels("indentation", " a b") == [1, 1, 1, 1]
    assert labels("indentation", "   \nx") == [1, 2, 3, 0, 0]


def test_word_start_marks_the_first_character_of_each_word():
    #                              _  a  b  _  c  1  _  2  é  .  x
    assert labels("word_start", "_ab c1 2é.x") == [1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1]


def test_empty_text_gives_empty_labels():
    for name in BUILTIN_PROBES:
        assert builtin_probe(name).labels("").shape == (0,)


def test_a_megabyte_of_text_is_labelled_by_every_builtin_probe():
    text = ('def f(x):\n    """Doc\'s."""\n    return g(x, "a\\"b", [1, 2])  # done\n' * 20_000)[:1_000_000]
    for syntax in SYNTAXES:
        for name in BUILTIN_PROBES:
            assert builtin_probe(name, syntax=syntax).labels(text).shape == (1_000_000,)


# Regular expressions ----------------------------------------------------------------------
def test_regex_probe_marks_match_spans():
    probe = regex_probe(r"\d+")
    assert probe.labels("a12b3").tolist() == [0, 1, 1, 0, 1]
    assert probe.name == r"regex:\d+"


def test_regex_probe_empty_matches_mark_nothing():
    assert regex_probe("x*").labels("axxb").tolist() == [0, 1, 1, 0]
    assert regex_probe("").labels("ab").tolist() == [0, 0]


def test_regex_probe_takes_a_compiled_pattern_and_a_name():
    probe = regex_probe(re.compile("b", re.IGNORECASE), name="bees")
    assert probe.labels("aBb").tolist() == [0, 1, 1]
    assert probe.name == "bees"


def test_invalid_regex_error_is_exact():
    with raises_exactly(
        ConfigurationError,
        "Invalid regular expression '(a' for a regex probe: missing ), unterminated subpattern at position 0. "
        "Give a valid Python regular expression (see the re module).",
    ):
        regex_probe("(a")


# Callables --------------------------------------------------------------------------------
def test_callable_probe_gets_tokens():
    received = []

    def capitalised(tokens):
        """Token starts with a capital letter."""
        received.append(tokens)
        return [token[:1].isupper() for token in tokens]

    probe = callable_probe(capitalised, name="capitalised")
    assert token_labels(probe, ("The", "cat", "Tom")).tolist() == [1, 0, 1]
    assert received == [["The", "cat", "Tom"]]
    assert probe.per_token and probe.description == "Token starts with a capital letter."


def test_callable_probe_wrong_length_error_is_exact():
    probe = callable_probe(lambda tokens: [1.0], name="short")
    with raises_exactly(
        DataError, "Probe 'short' returned 1 value for 3 tokens; it must return one finite number per token (3 here)."
    ):
        token_labels(probe, ["a", "b", "c"])


@pytest.mark.parametrize(
    "returned, shown",
    [
        ([1, None, 2], "None for token 1"),
        ([1, "2", 2], "'2' for token 1"),
        ([1, math.nan, 2], "nan for token 1"),
        (None, "None"),
    ],
)
def test_callable_probe_non_numbers_error_is_exact(returned, shown):
    probe = callable_probe(lambda tokens: returned, name="p")
    with raises_exactly(DataError, f"Probe 'p' returned {shown}; it must return one finite number per token (3 here)."):
        token_labels(probe, ["a", "b", "c"])


def test_callable_probe_empty_name_error_is_exact():
    with raises_exactly(
        ConfigurationError, "The name of a callable probe must be a non-empty str. Got '' instead. Pass name='...'."
    ):
        callable_probe(len, name="")


def test_token_probe_refuses_a_text():
    probe = callable_probe(lambda tokens: [0.0] * len(tokens), name="zeros")
    with raises_exactly(
        ConfigurationError,
        "Probe 'zeros' takes the list of tokens, not a text. "
        "Call token_labels(probe, tokens) instead (token_labels(probe, list(text)) for characters).",
    ):
        probe.labels("abc")


# Values per token -------------------------------------------------------------------------
def test_token_labels_take_each_tokens_last_character():
    # The text is x="ab"c; the tokens end at =, a, the closing quote and c.
    assert token_labels(builtin_probe("string"), ["x=", '"a', 'b"', "c"]).tolist() == [0, 1, 0, 0]


def test_empty_token_takes_the_value_of_the_previous_position():
    assert token_labels(builtin_probe("bracket_depth"), ["", "(", "", ")"]).tolist() == [0, 1, 1, 0]
    assert token_labels(builtin_probe("bracket_depth"), ["(", ""], separator=" ").tolist() == [1, 1]


def test_word_level_tokens_with_separator():
    tokens = ["def", "f(x,", "y):", "#", "done"]  # the text is "def f(x, y): # done"
    assert token_labels(builtin_probe("bracket_depth"), tokens, separator=" ").tolist() == [0, 1, 0, 0, 0]
    assert token_labels(builtin_probe("comment"), tokens, separator=" ").tolist() == [0, 0, 0, 1, 1]


def test_token_labels_of_no_tokens_is_empty():
    assert token_labels(builtin_probe("string"), []).shape == (0,)


# Resolving specs --------------------------------------------------------------------------
def test_resolve_probe_turns_each_kind_of_spec_into_a_probe():
    def vowels(tokens):
        return [float(token in "aeiou") for token in tokens]

    own = Probe("own", "a probe of one's own", lambda text: [0.0] * len(text))
    assert resolve_probe("comment", syntax="c") is builtin_probe("comment", syntax="c")
    assert resolve_probe(own) is own
    assert resolve_probe(r"\d+").labels("a1").tolist() == [0, 1]
    assert resolve_probe(re.compile("a")).name == "regex:a"
    assert resolve_probe("regex:string").labels("a string").tolist() == [0, 0, 1, 1, 1, 1, 1, 1]
    assert resolve_probe(vowels).name == "vowels" and resolve_probe(vowels).per_token


def test_resolve_probe_invalid_string_error_is_exact():
    with raises_exactly(
        ConfigurationError,
        f"The probe '(a' is neither a builtin probe ({BUILTIN_NAMES}) nor a valid regular expression "
        "(missing ), unterminated subpattern at position 0). Give a builtin name or a valid Python regular expression.",
    ):
        resolve_probe("(a")


def test_resolve_probe_wrong_type_error_is_exact():
    with raises_exactly(
        ConfigurationError,
        f"A probe must be a builtin probe name ({BUILTIN_NAMES}), a regular expression (a str or re.Pattern), "
        "a Probe or a function of the list of tokens. Got int 42 instead.",
    ):
        resolve_probe(42)


def test_unknown_builtin_error_is_exact():
    with raises_exactly(
        ConfigurationError,
        f"Unknown builtin probe 'strings'. Expected one of: {BUILTIN_NAMES}. "
        "Use one of these names, or regex_probe() for a pattern.",
    ):
        builtin_probe("strings")


def test_unknown_syntax_error_is_exact():
    with raises_exactly(
        ConfigurationError,
        "Unknown probe syntax 'java'. Expected one of: python, c. Pass syntax='python' or syntax='c'.",
    ):
        builtin_probe("string", syntax="java")



# A character-by-character reader, as the specification of the lexer -----------------------
def read_like_a_reader(text, syntax):
    """string, comment and bracket_depth after each character, from a plain per-character state machine."""
    string, comment, depth = [], [], []
    mode, quote, escaped, level = "code", "", False, 0
    opened_at = -2  # where the open single-line string began
    empty_closed_at = -2  # where an empty string ("" or '') was closed, to see a third quote open a triple string
    run = 0  # consecutive unescaped quotes inside a triple-quoted string
    pending_slash = False  # C: the previous character was a / in code
    previous_star = False  # C: the previous character inside a block comment was a *
    for index, character in enumerate(text):
        if mode == "code":
            if syntax == "c" and pending_slash and character in "/*":
                mode, previous_star = ("line" if character == "/" else "block"), False
            elif syntax == "python" and character == quote and empty_closed_at == index - 1:
                mode, run = "triple", 0
            elif character in "'\"":
                mode, quote, opened_at = "single", character, index
            elif syntax == "python" and character == "#":
                mode = "line"
            elif character in "([{":
                level += 1
            elif character in ")]}":
                level = max(0, level - 1)
            pending_slash = syntax == "c" and mode == "code" and character == "/"
        elif mode == "single":
            if escaped:
                escaped = False
            elif character == "\\":
                escaped = True
            elif character == "\n":
                mode = "code"
            elif character == quote:
                mode = "code"
                if opened_at == index - 1:
                    empty_closed_at = index
        elif mode == "triple":
            if escaped:
                escaped, run = False, 0
            elif character == "\\":
                escaped, run = True, 0
            elif character == quote:
                run += 1
                mode = "code" if run == 3 else mode
            else:
                run = 0
        elif mode == "line":
            mode = "code" if character == "\n" else mode
        elif previous_star and character == "/":  # a block comment closes
            mode = "code"
        else:
            previous_star = character == "*"
        string.append(1 if mode in ("single", "triple") else 0)
        comment.append(1 if mode in ("line", "block") else 0)
        depth.append(level)
    return string, comment, depth


@settings(max_examples=400, deadline=None)
@given(text=st.text(alphabet="'\"#/*\\\n([{)]}a ", max_size=40), syntax=st.sampled_from(SYNTAXES))
def test_lexer_agrees_with_a_character_by_character_reader(text, syntax):
    string, comment, depth = read_like_a_reader(text, syntax)
    assert labels("string", text, syntax) == string
    assert labels("comment", text, syntax) == comment
    assert labels("bracket_depth", text, syntax) == depth


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=" \t\nab_1é.", max_size=30))
def test_line_probes_agree_with_a_character_by_character_reader(text):
    position, indentation, word_start = [], [], []
    column, width, leading, previous_is_word = 0, 0, True, False
    for character in text:
        if character == "\n":
            column, width, leading = 0, 0, True
        else:
            column += 1
            leading = leading and character in " \t"
            width += leading
        is_word = character.isalnum() or character == "_"
        word_start.append(int(is_word and not previous_is_word))
        previous_is_word = is_word
        position.append(column)
        indentation.append(width)
    assert labels("line_position", text) == position
    assert labels("indentation", text) == indentation
    assert labels("word_start", text) == word_start
