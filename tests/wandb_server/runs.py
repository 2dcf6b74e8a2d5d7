"""Run logging: what wandb-core sends for a run (viewer, server features, upsert of the run, resume
status, file uploads, stop polling) and `wandb sync`. Filled in by the run-logging work."""
