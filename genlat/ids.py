"""Run and sweep ids in W&B's own format (8 characters of [a-z0-9]), so an offline run syncs under
the id genlat gave it."""

from __future__ import annotations

import os
import secrets
import string

ALPHABET = string.ascii_lowercase + string.digits


def new_id() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(8))


def new_run_id() -> str:
    """A new run's id; a sweep agent's WANDB_RUN_ID wins (the agent's run must be the one logged)."""
    return os.environ.get("WANDB_RUN_ID") or new_id()
