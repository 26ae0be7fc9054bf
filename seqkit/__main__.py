"""``python -m seqkit``: the ``seqkit`` command, for when its script is not on ``PATH``."""

from seqkit.cli.main import run

if __name__ == "__main__":
    run()
