"""Builds the matching engine's one compiled module (matching/_sap.pyx); everything
else is declared in pyproject.toml. Optional: without a C compiler the install still
succeeds and the engine uses scipy's solver (same results, about ten times slower at
city scale)."""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [
            Extension(
                "matching._sap", ["matching/_sap.pyx"], extra_compile_args=["-O3"], optional=True
            )
        ],
        compiler_directives={"language_level": "3"},
    )
)
