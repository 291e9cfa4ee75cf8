"""The docstring examples of every matching module run and pass."""

import doctest
import importlib

import pytest

MODULES = [
    "matching",
    "matching._arrays",
    "matching._baselines",
    "matching._engine",
    "matching._generate",
    "matching._geo",
    "matching._instance",
    "matching._model",
    "matching._solve",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    assert result.attempted > 0
