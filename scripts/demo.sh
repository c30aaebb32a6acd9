#!/usr/bin/env bash
# The main job: set up Quanta in .venv, create an example mesh and validate it.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e .
rm -rf .quanta-demo
.venv/bin/quanta init demo --dir .quanta-demo
.venv/bin/quanta validate .quanta-demo
