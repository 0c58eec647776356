"""The book's machinery, kept apart from the paper's mathematics (the core of ``mmcl_lib`` never
imports this subpackage):

- ``scale``: the one switch for experiment sizes (``MMCL_SCALE``);
- ``explorer``: interactive figures, live ipywidgets in a kernel or precomputed frames in the
  rendered book (also a Sphinx extension that selects the static mode for the build);
- ``sweep``: seeded parameter sweeps and the fits the chapters draw from them;
- ``unpaired_experiment``: the driver of the paper's Section 5.1 experiment (Chapter 5 and
  ``experiments/reproduce_unpaired.py``).
"""
