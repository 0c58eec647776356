"""mmcl_lib: the mathematics of "Understanding Multimodal Contrastive Learning and Incorporating
Unpaired Data" (Nakada et al., AISTATS 2023), as used by the chapters of the mmcl book.

Modules: ``losses`` (the loss family, gradient weights, contrastive cross-covariance),
``spectral`` (Lemma 2.1's SVD minimiser), ``optim`` (gradient descent), ``data`` (the
latent-factor model), ``metrics`` (sin-theta distance, retrieval), ``explorer`` (interactive
figures for notebooks and the static book), ``scale`` (experiment sizes).
"""

__version__ = "0.1.0"
