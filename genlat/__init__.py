"""genlat: latent-space experiments on image generators, as W&B sweeps."""

__version__ = "0.1.0"
