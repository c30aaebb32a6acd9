#!/usr/bin/env bash
# The main job: set up Quanta in .venv, create an example mesh, build it and show it.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e .
rm -rf .quanta-demo
.venv/bin/quanta init demo --dir .quanta-demo
.venv/bin/quanta validate .quanta-demo
.venv/bin/quanta plan .quanta-demo
.venv/bin/quanta build .quanta-demo
.venv/bin/quanta build .quanta-demo          # a second build is a no-op
.venv/bin/quanta status .quanta-demo
.venv/bin/quanta show sales.daily-revenue --mesh .quanta-demo
.venv/bin/quanta query "select country, sum(revenue) as revenue from sales.daily_revenue group by all order by 2 desc" \
  --mesh .quanta-demo
