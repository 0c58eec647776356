"""The book's machinery, kept apart from the paper's mathematics (the core of ``mmcl_lib`` never
imports this subpackage):

- ``scale``: the one switch for experiment sizes (``MMCL_SCALE``);
- ``explorer``: interactive figures, live ipywidgets in a kernel or precomputed frames in the
  rendered book (also a Sphinx extension that selects the static mode for the build);
- ``quotes``: the numbers the prose quotes (MyST's inline ``{eval}``, in the book and in JupyterLab);
- ``display`` and ``style``: the house figure style, one look per method, bands, tables;
- ``sweep``: seeded parameter sweeps and the fits the chapters draw from them;
- ``progress`` and ``files``: progress bars that stay silent unless asked for, and atomic writes
  for every results file;
- ``chapters_1_3`` and ``chapters_4_5``: the figures and experiment set-ups of Chapters 1-5;
- ``unpaired_experiment``: the resumable driver of the paper's Section 5.1 experiment (Chapter 5
  and ``experiments/reproduce_unpaired.py``);
- ``real_data_experiment``: Chapter 6's experiments (Sections 5.2 and 5.3 on the multi-view digits);
- ``relatives_experiment``: Chapter 7's comparison with PLS-SVD and the CCA family.
"""
