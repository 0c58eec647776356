"""mmcl_lib: the mathematics of "Understanding Multimodal Contrastive Learning and Incorporating
Unpaired Data" (Nakada et al., AISTATS 2023), as used by the chapters of the mmcl book.

Modules, by chapter:

- ``similarity`` (inner-product and cosine similarities, the chain rule to the encoders) and
  ``losses`` (the loss family (2.1), gradient weights beta, contrastive cross-covariance S(beta));
- ``spectral`` (Lemma 2.1's SVD minimiser, the spectral solver), ``optim`` (gradient descent),
  ``estimators`` (the closed-form MMCL encoders): Chapters 1-2;
- ``data`` (the latent-factor model), ``metrics`` (sin-theta distance, retrieval accuracy),
  ``baselines`` (PCA, unimodal contrastive learning with random masking), ``sweep`` (seeded
  parameter sweeps): Chapters 3-4;
- ``training`` (the paper's minibatch AdamW recipe), ``unpaired`` (pair detection, the unpaired
  loss, matching), ``unpaired_experiment`` (the Section 5.1 reproduction): Chapter 5;
- ``real_data`` (scikit-learn's digits as two modalities), ``graph`` (class-level pairing graphs,
  multi-positive InfoNCE, spectral co-clustering): Chapter 6;
- ``explorer`` (interactive figures, live or static) and ``scale`` (experiment sizes): every chapter.
"""

__version__ = "0.1.0"
