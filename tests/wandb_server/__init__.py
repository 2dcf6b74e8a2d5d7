"""A local W&B server for the tests: the real, unpatched `wandb` client (wandb-core's run logging,
`wandb sync`, `wandb sweep`, `wandb agent`, `wandb.Api()`, wandb-workspaces' `Report.save()`) talks
to it over HTTP on 127.0.0.1. It implements exactly the operations genlat's features use, stores
what the client sends (`store.Store`) and serves it back. An operation it does not know is recorded
by name and fails the test that caused it (`LocalWandbServer.check`), so a wandb upgrade that adds
one is seen at once. Standard library plus the `sweeps` package (W&B's own search code)."""

from tests.wandb_server.server import LocalWandbServer

__all__ = ["LocalWandbServer"]
