"""Reading and writing files defensively, one concern per module.

- :mod:`seqkit.io.zipsafe` — zip archives read without trusting their headers;
- :mod:`seqkit.io.keras_config` — a ``.keras`` archive vetted, sized from its
  ``config.json`` and loaded in safe mode;
- :mod:`seqkit.io.lock` — the exclusive lock a training run holds on its folder;
- :mod:`seqkit.io.pointer` — TensorFlow's ``checkpoint`` pointer file, parsed and
  written by seqkit itself.
"""
