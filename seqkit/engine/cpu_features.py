"""The CPU's matrix features, read once: what decides whether bfloat16 can pay on a CPU.

bfloat16 matmuls are fast on a CPU only where it has hardware for them: Intel's AMX tiles
(``amx_bf16``, Sapphire Rapids on), or AVX-512's ``avx512_bf16`` dot products (Cooper
Lake, AMD Zen 4 on). Elsewhere every bfloat16 matmul is converted to float32 and back
(XLA's CPU compiler does so, and oneDNN emulates), so bfloat16 only costs time. seqkit reads
the flags Linux reports in ``/proc/cpuinfo`` once per process (:func:`cpu_features`); the
device policy (:mod:`seqkit.engine.policy`) and ``seqkit info`` read them from there, and
tests inject their own (:func:`parse_cpuinfo`).

>>> features = parse_cpuinfo("model name : Example Xeon\\nflags : fpu avx2 avx512f avx512_bf16 amx_bf16 amx_tile\\n")
>>> features.model, features.bfloat16_hardware
('Example Xeon', 'AMX')
>>> features.summary()
'Example Xeon: AVX2, AVX-512, AVX512-BF16, AMX-BF16'
>>> parse_cpuinfo("flags : fpu avx2\\n").bfloat16_hardware is None
True
"""

from __future__ import annotations

import functools
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["CpuFeatures", "cpu_features", "parse_cpuinfo"]

CPUINFO = Path("/proc/cpuinfo")
"""Where Linux lists the CPU's model and feature flags."""

FEATURE_NAMES: tuple[tuple[str, str], ...] = (
    ("avx2", "AVX2"),
    ("avx512f", "AVX-512"),
    ("avx512_bf16", "AVX512-BF16"),
    ("amx_bf16", "AMX-BF16"),
)
"""``(flag, name)``: the flags that matter for float32 and bfloat16 matmuls, as ``seqkit info`` names them."""


@dataclass(frozen=True)
class CpuFeatures:
    """The CPU's model name and its feature flags (as Linux spells them).

    Attributes:
        model: the model name (``"unknown"`` where the system does not say).
        flags: the feature flags, e.g. ``{"avx2", "avx512_bf16", "amx_bf16"}``; empty where
            they cannot be read (not Linux), which counts as no bfloat16 hardware.
    """

    model: str
    flags: frozenset[str]

    @property
    def bfloat16_hardware(self) -> str | None:
        """``"AMX"``, ``"AVX512-BF16"``, or None where bfloat16 matmuls are emulated."""
        if "amx_bf16" in self.flags:
            return "AMX"
        if "avx512_bf16" in self.flags:
            return "AVX512-BF16"
        return None

    def summary(self) -> str:
        """The model and the matmul features it has, in one line (``seqkit info``)."""
        present = [name for flag, name in FEATURE_NAMES if flag in self.flags]
        return f"{self.model}: {', '.join(present) if present else 'no AVX2, AVX-512 or AMX flags read'}"

    def get_config(self) -> dict[str, Any]:
        """The model, the matmul flags present and the bfloat16 hardware, as JSON-ready values."""
        return {
            "model": self.model,
            "flags": [flag for flag, _ in FEATURE_NAMES if flag in self.flags],
            "bfloat16_hardware": self.bfloat16_hardware,
        }


def parse_cpuinfo(text: str) -> CpuFeatures:
    """The features listed in the text of ``/proc/cpuinfo`` (its first processor's).

    Args:
        text: the file's text.

    Returns:
        The :class:`CpuFeatures`; a model of ``"unknown"`` and no flags where the text has none.
    """
    model, flags = "unknown", frozenset[str]()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and model == "unknown":
            model = value.strip() or "unknown"
        elif key in ("flags", "Features") and not flags:
            flags = frozenset(value.split())
    return CpuFeatures(model, flags)


@functools.cache
def cpu_features() -> CpuFeatures:
    """This machine's :class:`CpuFeatures`, read once per process (``/proc/cpuinfo`` on Linux;
    elsewhere the model from :func:`platform.processor` and no flags)."""
    try:
        return parse_cpuinfo(CPUINFO.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return CpuFeatures(platform.processor() or "unknown", frozenset())
