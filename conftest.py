"""Test-suite settings shared by the library tests and the notebooks that nbmake runs."""

import os

# Notebooks run by nbmake inherit this: small sizes keep the suite fast. The book build does not
# set it, so the rendered book shows the real default sizes. Override with MMCL_SCALE=default.
os.environ.setdefault("MMCL_SCALE", "quick")
os.environ.setdefault("MPLBACKEND", "Agg")
