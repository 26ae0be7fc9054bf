"""Every ``>>>`` example in seqkit's docstrings runs and shows what it claims.

One test per module of the ``seqkit`` package (and of ``seqkit.cli``, installed
from ``cli/``), so that a broken or drifted example fails the suite and names
its module.
"""

import doctest
import importlib
import importlib.util
import pkgutil

import pytest

import seqkit

PACKAGES = ("seqkit", "seqkit.cli")


def _module_names() -> list[str]:
    names: list[str] = []
    for package_name in PACKAGES:
        if importlib.util.find_spec(package_name) is None:
            continue
        package = importlib.import_module(package_name)
        names.append(package_name)
        # A subpackage that fails to import is still listed, and its test reports the error.
        for module in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}.", onerror=lambda name: None):
            names.append(module.name)
    return sorted(set(names))


MODULE_NAMES = _module_names()


def test_the_seqkit_package_and_its_data_layer_are_collected():
    assert {"seqkit", "seqkit.vocab", "seqkit.windows", "seqkit.layouts"} <= set(MODULE_NAMES)
    assert seqkit.__name__ in MODULE_NAMES


SLOW_MODULES = {"seqkit.sequence_model", "seqkit.plot", "seqkit.callbacks"}
"""Modules whose examples train several models (5-7 s each on 2 cores): run in the slow suite,
which CI runs, to keep the default suite near its 5-minute budget."""


@pytest.mark.parametrize(
    "module_name",
    [pytest.param(name, marks=pytest.mark.slow) if name in SLOW_MODULES else name for name in MODULE_NAMES],
)
def test_docstring_examples_run(module_name):
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS, verbose=False)
    report: list[str] = []
    for test in sorted(finder.find(module, module_name), key=lambda test: test.name):
        runner.run(test, out=report.append)
    assert runner.failures == 0, f"{runner.failures} of {runner.tries} examples failed:\n" + "".join(report)
