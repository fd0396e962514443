"""Builds the minima package with libminima.so inside it, so an installed
copy (pip install ./python) does not depend on this source tree. The
library comes from $MINIMA_LIBRARY or ../build/libminima.so (bash
scripts/setup.sh builds it). The rest of the configuration is in
pyproject.toml."""
import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


class BuildPyWithLibrary(build_py):
    def run(self):
        super().run()
        lib = os.environ.get("MINIMA_LIBRARY") or os.path.join(HERE, "..", "build", "libminima.so")
        if not os.path.exists(lib):
            raise SystemExit(f"minima: {lib} not found; build the library first (bash scripts/setup.sh --no-run) "
                             "or set MINIMA_LIBRARY")
        dest = os.path.join(self.build_lib, "minima", "libminima.so")
        shutil.copyfile(os.path.realpath(lib), dest)


setup(cmdclass={"build_py": BuildPyWithLibrary})
