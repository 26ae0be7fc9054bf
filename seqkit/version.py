"""seqkit's version: the one place it is written.

``seqkit.__version__`` re-exports it, ``setup.cfg`` reads it
(``version = attr: seqkit.version.__version__``), and bundles and checkpoints
record it.

>>> from seqkit.version import __version__
>>> __version__.count(".")
2
"""

__version__ = "0.5.0"
