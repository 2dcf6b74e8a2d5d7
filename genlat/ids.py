"""Run and sweep ids in W&B's own format (8 characters of [a-z0-9]), so an offline run syncs under
the id genlat gave it."""

from __future__ import annotations

import os
import secrets
import string

ALPHABET = string.ascii_lowercase + string.digits


def new_id() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(8))


def agent_run_id() -> str | None:
    """The W&B run a sweep agent started this process for (`wandb agent` sets WANDB_SWEEP_ID and
    WANDB_RUN_ID), or None. Such a run owns its folder: its id is part of the folder's name."""
    if os.environ.get("WANDB_SWEEP_ID") and os.environ.get("WANDB_RUN_ID"):
        return os.environ["WANDB_RUN_ID"]
    return None


def new_run_id() -> str:
    """A new run's id; a sweep agent's WANDB_RUN_ID wins (the agent's run must be the one logged)."""
    return os.environ.get("WANDB_RUN_ID") or new_id()
