#!/bin/sh
# Installs sccm-triage and every runtime dependency from wheels: no C compiler needed.
#
# The Dockerfile runs exactly this script, and tests/test_install.py runs it in a fresh
# virtual environment with no compiler on PATH, so the image's install steps are the ones
# the test suite proves. Run it from the folder that holds pyproject.toml:
#
#     sh scripts/install-from-wheels.sh [PYTHON]      (PYTHON defaults to python3)
#
# Only sccm-triage itself is built here (pure Python: setuptools makes its wheel); any
# dependency without a wheel for this platform stops the install instead of compiling.
set -eu
python="${1:-python3}"
"$python" -m pip install --only-binary=:all: --no-binary=sccm-triage .
# setuptools leaves its build tree in the source folder; nothing needs it after install.
# (Python removes it, so the script needs no tool on PATH beyond the interpreter.)
"$python" -c "import shutil; [shutil.rmtree(p, True) for p in ('build', 'sccm_triage.egg-info')]"
