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
- ``training_figures`` and ``loss_figures``: the figures of Part I (a training run, the setting, the
  temperature, the weights); ``recovery_figures``: Chapter 3's figures and the looks of settings;
- ``robustness_experiment``: Chapter 4's set-ups and figures (wrong pairs, the baselines);
- ``detection_experiment`` and ``unpaired_figures``: Chapter 5's demonstrations and figures;
- ``unpaired_experiment``: the resumable driver of the paper's Section 5.1 experiment (Chapter 5
  and ``experiments/reproduce_unpaired.py``);
- ``real_data_experiment``: Chapter 6's experiments (Sections 5.2 and 5.3 on the multi-view digits);
- ``relatives_experiment``: Chapter 7's comparison with PLS-SVD and the CCA family;
- ``filtering_experiment``: Chapter 8's measurements of teacher filtering.
"""
