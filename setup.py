"""Builds the matching engine's one compiled module (matching/_flow.pyx); everything
else is declared in pyproject.toml. Optional: without a C compiler the install still
succeeds and the engine runs the same solver in plain Python (matching/_flow_py.py:
the same answers, tens of times slower at city scale)."""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [
            Extension(
                "matching._flow", ["matching/_flow.pyx"], extra_compile_args=["-O3"], optional=True
            )
        ],
        compiler_directives={"language_level": "3"},
    )
)
