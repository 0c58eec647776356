"""mmcl_lib: the mathematics of "Understanding Multimodal Contrastive Learning and Incorporating
Unpaired Data" (Nakada et al., AISTATS 2023), as used by the chapters of the mmcl book.

One module per object of the paper:

- ``similarity``: inner-product and cosine similarities, and the one chain rule to the encoders;
- ``losses``: the loss family (eq. 2.1), CLIP as a two-sided softmax, its gradient weights beta
  (also at given similarities) and the contrastive cross-covariance S(beta) (Chapters 1-2);
- ``spectral``: Lemma 2.1's SVD minimiser, the closed-form MMCL estimator, SVD alignment (Chapter 2);
- ``solvers``: gradient descent and the spectral solver, with one result type ``FitResult``;
- ``training``: the paper's minibatch AdamW recipe (Section 5.1; Chapter 5);
- ``data``: the latent-factor model with wrongly matched pairs (Section 3; Chapters 3-4);
- ``real_data``: real multi-view data shipped with the library (Chapter 6);
- ``metrics``: sin-theta and subspace error, the random-subspace level, retrieval and
  nearest-prototype accuracy;
- ``baselines``: PCA and unimodal contrastive learning (Chapter 4);
- ``unpaired``: detecting hidden pairs in unpaired data (Section 4; Chapter 5);
- ``teacher``: self-training with a gated teacher (Section 5.3; Chapter 6);
- ``graph``: class-level pairing graphs and their spectral denoising (Section 5.2; Chapter 6);
- ``classical``: PLS-SVD, CCA, ridge and robust CCA from scikit-learn and cca-zoo (Chapter 7);
- ``_validation``: the input checks behind every public function (run once, at the public boundary);
- ``_blocked``: not in the paper, the same loss evaluated in bounded memory for large n (used by
  ``losses`` above its memory budget).

The book's own machinery (interactive figures, experiment sizes, sweeps, experiment drivers) lives
in the subpackage ``mmcl_lib.book``; nothing above imports it.
"""

__version__ = "1.0.0"
