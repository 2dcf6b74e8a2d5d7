"""Sweeps: `wandb sweep` (upsert), `wandb agent` (create agent, heartbeats carrying run/stop/exit
commands) and the controller that picks runs with W&B's own `sweeps` package."""
