"""``seqkit generate``: extend a prime token by token."""

from __future__ import annotations

import click
from rich.text import Text

from .errors import SeqkitCommand
from .options import (
    MIN_TEMPERATURE,
    POSITIVE,
    SEED,
    FiniteFloatRange,
    bundle_argument,
    model_level,
    open_bundle,
    output_options,
    split_context,
)
from .render import UI, join_tokens, terminal_safe


@click.command(cls=SeqkitCommand, short_help="Generate tokens after a prime.")
@bundle_argument
@click.option("--prime", required=True, metavar="TOKENS",
              help="The tokens to start from, at the model's level (e.g. A, or \"C D\"; text for a subword "
                   "model, split by its tokenizer).")
@click.option("--steps", type=POSITIVE, default=25, show_default=True, help="How many tokens to generate.")
@click.option("--temperature", type=FiniteFloatRange(MIN_TEMPERATURE), default=None,
              help=f"Sample with this temperature (at least {MIN_TEMPERATURE:g}) instead of taking the most "
                   "likely token.")
@click.option("--top-k", type=POSITIVE, default=None, metavar="K",
              help="Sample among the K most likely tokens only.")
@click.option("--top-p", type=FiniteFloatRange(0, 1, min_open=True), default=None, metavar="P",
              help="Sample within the nucleus: the fewest most likely tokens whose probability adds up to P.")
@click.option("--seed", type=SEED, default=None, help="Seed of the sampling (with --temperature, --top-k or --top-p).")
@output_options
def generate(
    bundle: str, prime: str, steps: int, temperature: float | None, top_k: int | None, top_p: float | None,
    seed: int | None, ui: UI,
) -> None:
    """Generate STEPS tokens after --prime, feeding each prediction back in.

    Greedy by default; --temperature, --top-k and --top-p sample (temperature:
    lower is safer, higher wilder, at least 0.001; top-k: only the K most likely
    tokens; top-p: only the nucleus of probability P), reproducibly with --seed.
    Control characters in the text are shown escaped. A stateful model starts
    from a zero state and primes it with --prime.

    \b
    Examples:
      seqkit generate alphabet.seqkit --prime A --steps 25
      seqkit generate code.seqkit --prime "def " --steps 200 --temperature 0.8 --top-p 0.9 --seed 7
    """
    sampling = temperature is not None or top_k is not None or top_p is not None
    if seed is not None and not sampling:
        raise click.UsageError("--seed applies to sampling only; give --temperature, --top-k or --top-p too.")
    model = open_bundle(bundle)
    level = model_level(model)
    tokens = split_context(prime, level, model.vocabulary)
    model.reset()
    if top_k is not None and top_k > model.vocabulary.size:
        raise click.UsageError(f"--top-k {top_k} is more than the model's {model.vocabulary.size} tokens.")
    generated = model.generate(tokens, steps, temperature=temperature, top_k=top_k, top_p=top_p, seed=seed)
    separator = " " if level == "word" else ""
    text = Text(terminal_safe(join_tokens(tokens, level, model.vocabulary), keep_layout=True), style="bold")
    text.append(terminal_safe(separator + join_tokens(generated, level, model.vocabulary), keep_layout=True),
                style="green")
    ui.result(text)
    ui.emit_json({
        "prime": tokens,
        "generated": generated,
        "text": join_tokens(tokens + generated, level, model.vocabulary),
        "temperature": temperature,
        "top_k": top_k,
        "top_p": top_p,
        "seed": seed,
    })
