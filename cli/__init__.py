"""seqkit's command-line interface, installed as ``seqkit.cli``."""
