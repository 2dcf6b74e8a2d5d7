"""Reads what runs wrote and turns it into answers. Never imports the trainer: run directories
(or the W&B API) are its only input, so a copied run directory is enough to report on."""
