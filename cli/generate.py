"""``seqkit generate``: extend primes token by token, one sample or many in one batch."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

from .errors import SeqkitCommand
from .options import (
    MAX_TEMPERATURE,
    MIN_TEMPERATURE,
    POSITIVE,
    SUBWORD_LEVEL_NAMES,
    TEMPERATURE,
    FiniteFloatRange,
    PathType,
    bundle_argument,
    model_level,
    open_bundle,
    output_options,
    split_context,
)
from seqkit.sampling import MAX_BEAM, MAX_PENALTY, MAX_ROWS, MAX_STEPS, MAX_TOKENS  # NumPy only: no Keras

from .paths import Input, Output, check_outputs
from .render import UI, join_tokens, json_ready, terminal_safe

GENERATE_SEED = click.IntRange(0, 2**63 - 1)
"""``--seed``: any seed NumPy takes, so that sample i's own seed (``--seed`` + i) can be given again."""

JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
"""``--out`` files written as JSON Lines; any other name gets plain text."""

_ESCAPE = re.compile(r"\\(n|t|r|\\)")


def unescape(text: str) -> str:
    r"""``--stop`` as typed in a shell: ``\n``, ``\t``, ``\r`` and ``\\`` read as the characters they name.

    >>> unescape(r"\n\n") == "\n\n", unescape(r"a\\n")
    (True, 'a\\n')
    """
    return _ESCAPE.sub(lambda match: {"n": "\n", "t": "\t", "r": "\r", "\\": "\\"}[match.group(1)], text)


@click.command(cls=SeqkitCommand, short_help="Generate tokens after a prime.")
@bundle_argument
@click.option("--prime", "primes", required=True, multiple=True, metavar="TOKENS",
              help="The tokens to start from, at the model's level (e.g. A, or \"C D\"; text for a subword "
                   "model, split by its tokenizer). Repeat it for several primes.")
@click.option("--steps", "--max-steps", "steps", type=click.IntRange(1, MAX_STEPS), default=25, show_default=True,
              help=f"The most tokens per sample (fewer when a --stop sequence comes first); at most {MAX_STEPS:,}.")
@click.option("--num-samples", "-n", type=click.IntRange(1, MAX_ROWS), default=1, show_default=True,
              help="Samples per prime, made together as the rows of one batch; sample i (counted over all the "
                   "primes, from 0) is seeded --seed + i.")
@click.option("--temperature", type=TEMPERATURE, default=None,
              help=f"Sample with this temperature ({MIN_TEMPERATURE:g} to {MAX_TEMPERATURE:g}) instead of taking the "
                   "most likely token.")
@click.option("--top-k", type=POSITIVE, default=None, metavar="K",
              help="Sample among the K most likely tokens only.")
@click.option("--top-p", type=FiniteFloatRange(0, 1, min_open=True), default=None, metavar="P",
              help="Sample within the nucleus: the fewest most likely tokens whose probability adds up to P.")
@click.option("--repetition-penalty", type=FiniteFloatRange(0, MAX_PENALTY, min_open=True), default=None, metavar="R",
              help="Multiply the log-probability of every token already in the text by R (above 1 "
                   "discourages repeats; 1.2 is a usual start).")
@click.option("--beam", type=click.IntRange(1, MAX_BEAM), default=None, metavar="W",
              help="Beam search: the W most likely continuations, each with its log-probability.")
@click.option("--stop", "stops", multiple=True, metavar="TEXT",
              help="End a sample when it generates TEXT (\\n, \\t, \\r and \\\\ read as escapes); repeatable. Split "
                   "into the model's tokens (words at the word level); a subword model finds it in the text.")
@click.option("--keep-stop", is_flag=True, help="Keep the stop sequence at the end of a sample (dropped by default).")
@click.option("--seed", type=GENERATE_SEED, default=None,
              help="Seed of the sampling (with --temperature, --top-k or --top-p); random and reported if not given.")
@click.option("--out", "out_path", type=PathType(dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help="Also write the samples to FILE: JSON Lines (one object per sample) if it ends in .jsonl or "
                   ".ndjson, else the texts, a blank line between them.")
@output_options
def generate(
    bundle: str, primes: tuple[str, ...], steps: int, num_samples: int, temperature: float | None,
    top_k: int | None, top_p: float | None, repetition_penalty: float | None, beam: int | None,
    stops: tuple[str, ...], keep_stop: bool, seed: int | None, out_path: Path | None, ui: UI,
) -> None:
    """Generate up to STEPS tokens after each --prime, feeding each prediction back in.

    Greedy by default; --temperature, --top-k and --top-p sample (temperature:
    lower is safer, higher wilder, at least 0.001; top-k: only the K most likely
    tokens; top-p: only the nucleus of probability P), reproducibly with --seed.
    --num-samples makes several samples at once, in one batch; --beam W finds the
    W most likely continuations instead. A sample ends after --steps tokens or at a
    --stop sequence. One sample is shown as it is generated; many get a progress
    bar. Control characters in the text are shown escaped. A stateful model starts
    from a zero state and primes it with --prime.

    \b
    Examples:
      seqkit generate alphabet.seqkit --prime A --steps 25
      seqkit generate code.seqkit --prime "def " --steps 200 --temperature 0.8 --top-p 0.9 --seed 7
      seqkit generate code.seqkit --prime "def " -n 32 --stop '\\n' --temperature 0.8 --out samples.jsonl
      seqkit generate code.seqkit --prime "import " --beam 5 --steps 20
    """
    sampling = temperature is not None or top_k is not None or top_p is not None
    if seed is not None and not sampling:
        raise click.UsageError("--seed applies to sampling only; give --temperature, --top-k or --top-p too.")
    if beam is not None and sampling:
        raise click.UsageError("--beam finds the most likely continuations and draws nothing; "
                               "drop --temperature, --top-k and --top-p, or drop --beam.")
    if beam is not None and num_samples != 1:
        raise click.UsageError("--beam gives the beam's W continuations; drop --num-samples.")
    rows = len(primes) * (beam or num_samples)
    if len(primes) * num_samples > MAX_ROWS:
        raise click.UsageError(f"{len(primes)} primes x {num_samples} samples is {len(primes) * num_samples} "
                               f"samples; one run makes at most {MAX_ROWS}. Generate in several runs.")
    if rows * steps > MAX_TOKENS:
        raise click.UsageError(f"{rows} samples x {steps} steps is {rows * steps:,} tokens; one run makes at most "
                               f"{MAX_TOKENS:,}. Give fewer --num-samples or --steps, or generate in several runs.")
    for prime in primes:
        if prime == "":
            raise click.UsageError("--prime is empty; give at least one token to start from (e.g. --prime A).")
    stop_texts = [unescape(stop) for stop in stops]
    if any(stop == "" for stop in stop_texts):
        raise click.UsageError("--stop is empty; give the text that ends a sample (e.g. --stop '\\n').")
    if out_path is not None:
        if str(out_path) == "-":
            raise click.UsageError("--out - would write a file named '-'; for the samples on standard output as "
                                   "JSON, use --json.")
        check_outputs([Output("--out", out_path)], [Input("BUNDLE", Path(bundle))])
    model = open_bundle(bundle, ui)
    level = model_level(model)
    prime_tokens = [split_context(prime, level, model.vocabulary) for prime in primes]
    for prime, tokens in zip(primes, prime_tokens):
        if not tokens:
            raise click.UsageError(f"--prime {prime!r} holds no token at the model's {level} level; give at least one.")
    if level not in SUBWORD_LEVEL_NAMES:  # a subword model finds its stops in the text
        for stop in stop_texts:
            if not split_context(stop, level):
                raise click.UsageError(f"--stop {stop!r} holds no token at the model's {level} level; give a stop "
                                       "made of the model's tokens.")
    if top_k is not None and top_k > model.vocabulary.size:
        raise click.UsageError(f"--top-k {top_k} is more than the model's {model.vocabulary.size} tokens.")
    if seed is None and sampling:
        import secrets

        seed = secrets.randbelow(2**32 - MAX_ROWS)
        ui.note(f"Seed {seed}: give --seed {seed} to make these samples again.")
    model.reset()
    options: dict[str, Any] = dict(
        num_samples=num_samples, temperature=temperature, top_k=top_k, top_p=top_p,
        repetition_penalty=repetition_penalty, beam=beam, stop=stop_texts or None, keep_stop=keep_stop, seed=seed,
    )
    separator = " " if level == "word" else ""
    if rows == 1 and beam is None and not ui.as_json:
        stream = Streamed(ui, join_tokens(prime_tokens[0], level, model.vocabulary), separator,
                          lambda tokens: join_tokens(tokens, level, model.vocabulary),
                          whole=level in SUBWORD_LEVEL_NAMES)
        samples = model.sample(primes=prime_tokens, steps=steps, on_tokens=stream.on_tokens, **options)
        stream.finish(samples[0].text)
    else:
        with _step_progress(ui, steps * (len(primes) if beam else 1), rows) as on_step:
            samples = model.sample(primes=prime_tokens, steps=steps, on_step=on_step, **options)
        for number, sample in enumerate(samples):
            _print(ui, Text(_header(number, samples, sample, beam is not None, len(primes)), style="dim"))
            _print(ui, _shown(sample, level, model.vocabulary, separator))
    records = [_record(number, sample, level, model.vocabulary, options) for number, sample in enumerate(samples)]
    if out_path is not None:
        _write(out_path, records)
        ui.note(f"Wrote {len(records)} sample{'s' if len(records) != 1 else ''} to {out_path}.")
    document: dict[str, Any] = {"samples": records}
    if len(records) == 1:  # the one-sample document of seqkit 0.2, kept
        only = records[0]
        document = {"prime": only["prime"], "generated": only["tokens"], "text": only["text"],
                    "temperature": temperature, "top_k": top_k, "top_p": top_p, "seed": only["seed"], **document}
    ui.emit_json(document)


def _print(ui: UI, text: Text) -> None:
    """A result line as it is, never wrapped at the console's width (a sample's lines are its own)."""
    if not ui.as_json:
        ui.out.print(text, soft_wrap=True)


def _record(number: int, sample: Any, level: str, vocabulary: Any, options: dict[str, Any]) -> dict[str, Any]:
    """One sample as a JSON object: what was made, and what made it."""
    separator = " " if level == "word" and sample.prime and sample.text else ""
    return {
        "sample": number + 1,
        "prime_index": sample.prime_index,
        "prime": list(sample.prime),
        "tokens": list(sample.tokens),
        "text": join_tokens(sample.prime, level, vocabulary) + separator + sample.text,
        "continuation": sample.text,
        "stop_reason": sample.stop_reason,
        "log_probability": sample.log_probability,
        "seed": sample.seed,
        **{name: options[name] for name in ("temperature", "top_k", "top_p", "repetition_penalty", "beam", "stop", "keep_stop")},
    }


def _write(path: Path, records: Sequence[dict[str, Any]]) -> None:
    """The samples to ``path``, atomically: JSON Lines, or the texts a blank line apart."""
    import json

    from seqkit.files import write_text_atomic

    if path.suffix.lower() in JSON_LINES_SUFFIXES:
        text = "".join(json.dumps(json_ready(record), ensure_ascii=False, allow_nan=False) + "\n" for record in records)
    else:
        text = "\n\n".join(record["text"] for record in records) + "\n"
    write_text_atomic(path, text)


def _header(number: int, samples: Sequence[Any], sample: Any, beam: bool, primes: int) -> str:
    """``sample 2/32 · seed 8 · log p -20.31 · stopped`` above each of many samples (numbered per prime)."""
    same = [other for other in samples if other.prime_index == sample.prime_index]
    place = sum(1 for other in samples[:number] if other.prime_index == sample.prime_index)
    parts = [f"{'beam' if beam else 'sample'} {place + 1}/{len(same)}"]
    if primes > 1:
        parts.insert(0, f"prime {sample.prime_index + 1}")
    if sample.seed is not None:
        parts.append(f"seed {sample.seed}")
    parts.append(f"log p {sample.log_probability:.2f}")
    parts.append("stopped" if sample.stop_reason == "stop" else "length")
    return " · ".join(parts)


def _shown(sample: Any, level: str, vocabulary: Any, separator: str) -> Text:
    """The prime in bold and the continuation in green, control characters escaped."""
    text = Text(terminal_safe(join_tokens(sample.prime, level, vocabulary), keep_layout=True), style="bold")
    if sample.text:
        text.append(terminal_safe(separator + sample.text, keep_layout=True), style="green")
    return text


class Streamed:
    """One sample printed as it is generated: the prime once the first tokens come, then each piece.

    Characters and words are shown as they come; a subword model's pieces (``whole``) are joined
    again each time, since a piece may end inside a character.

    Nothing is printed before the model has made a token, so a prime or a stop that the model
    refuses leaves standard output empty. :meth:`finish` prints what the stream has not shown
    (a subword sample cut at a stop inside its last piece ends with that cut) and the newline.
    """

    def __init__(self, ui: UI, prime: str, separator: str, join: Callable[[list[str]], str], *, whole: bool) -> None:
        self.ui, self.prime, self.separator, self.join, self.whole = ui, prime, separator, join, whole
        self.tokens: list[str] = []
        self.shown = ""
        self.started = False

    def _show(self, piece: str, style: str) -> None:
        self.ui.out.print(Text(terminal_safe(piece, keep_layout=True), style=style), end="", soft_wrap=True)
        self.ui.out.file.flush()

    def _start(self) -> None:
        if not self.started:
            self.started = True
            self._show(self.prime, "bold")

    def on_tokens(self, row: int, new: list[str]) -> None:
        self._start()
        if not self.whole:  # characters and words: new tokens' text follows the text shown, nothing re-joined
            piece = self.join(new)
            self._show(self.separator + piece, "green")  # after the prime or the tokens before
            self.shown = self.shown + self.separator + piece if self.shown else piece
            return
        self.tokens.extend(new)
        text = self.join(self.tokens)
        if text.endswith("\ufffd"):
            text = text[:-1]  # a subword piece ended inside a character: wait for the rest
        if len(text) > len(self.shown) and text.startswith(self.shown):
            self._show((self.separator if not self.shown else "") + text[len(self.shown):], "green")
            self.shown = text

    def finish(self, text: str) -> None:
        self._start()
        if len(text) > len(self.shown) and text.startswith(self.shown):
            self._show((self.separator if not self.shown else "") + text[len(self.shown):], "green")
        self.ui.out.print()


@contextmanager
def _step_progress(ui: UI, steps: int, rows: int) -> Iterator[Callable[[int], None] | None]:
    """A rich progress bar of the steps on a terminal (chatty); None elsewhere."""
    if not (ui.chatty and ui.err.is_terminal):
        yield None
        return
    with Progress(TextColumn(f"[bold]generating {rows} samples"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("steps"), TimeRemainingColumn(), console=ui.err, transient=True) as progress:
        task = progress.add_task("generate", total=steps)
        yield lambda done: progress.update(task, completed=done)
