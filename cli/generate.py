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
from .render import UI, join_tokens, printable


@click.command(cls=SeqkitCommand, short_help="Generate tokens after a prime.")
@bundle_argument
@click.option("--prime", required=True, metavar="TOKENS",
              help="The tokens to start from, at the model's level (e.g. A, or \"C D\").")
@click.option("--steps", type=POSITIVE, default=25, show_default=True, help="How many tokens to generate.")
@click.option("--temperature", type=FiniteFloatRange(MIN_TEMPERATURE), default=None,
              help=f"Sample with this temperature (at least {MIN_TEMPERATURE:g}) instead of taking the most "
                   "likely token.")
@click.option("--seed", type=SEED, default=None, help="Seed of the sampling (with --temperature).")
@output_options
def generate(bundle: str, prime: str, steps: int, temperature: float | None, seed: int | None, ui: UI) -> None:
    """Generate STEPS tokens after --prime, feeding each prediction back in.

    Greedy by default; --temperature samples (lower: safer, higher: wilder;
    at least 0.001). Control characters in the text are shown escaped.
    A stateful model starts from a zero state and primes it with --prime.

    \b
    Example:
      seqkit generate alphabet.seqkit --prime A --steps 25
    """
    if seed is not None and temperature is None:
        raise click.UsageError("--seed applies to sampling only; give --temperature too.")
    model = open_bundle(bundle)
    level = model_level(model)
    tokens = split_context(prime, level)
    model.reset()
    generated = model.generate(tokens, steps, temperature=temperature, seed=seed)
    separator = "" if level == "char" else " "
    text = Text(printable(join_tokens(tokens, level), keep_layout=True), style="bold")
    text.append(printable(separator + join_tokens(generated, level), keep_layout=True), style="green")
    ui.result(text)
    ui.emit_json({
        "prime": tokens,
        "generated": generated,
        "text": join_tokens(tokens + generated, level),
        "temperature": temperature,
        "seed": seed,
    })
