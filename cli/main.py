"""The ``seqkit`` root command group."""
import click


@click.group()
def main() -> None:
    """seqkit: train LSTMs to predict the next token."""
