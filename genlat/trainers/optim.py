"""torch.optim.Adam and Accelerate's unwrap_model without the `torch._dynamo` import they trigger.

Building, stepping, zeroing or saving any torch optimizer imports `torch._dynamo` (≈ 1 CPU-s here,
a third of a short run's fixed cost): those methods are wrapped (`torch._disable_dynamo`, and the
step's grad-mode wrapper) so that a compiled training loop does not trace into them, and the
wrappers import dynamo on their first call. genlat compiles networks (--compile), never an
optimizer, and steps optimizers outside any compiled region, so `Adam` calls the functions those
wrappers hold (`functools.wraps` keeps them as `__wrapped__`): the same arithmetic, the same
`state_dict`, checkpoints interchangeable with torch.optim.Adam's. Accelerate's `unwrap_model`
asks `hasattr(torch, "_dynamo")`, which imports it, to learn whether the model was compiled;
`unwrap` answers that without the import when nothing can have been compiled yet.
"""

from __future__ import annotations

import inspect
import sys

import torch
from torch import nn


def _undecorated(fn):
    """The function inside torch's dynamo-disabling and profiling wrappers (itself if there are none)."""
    return inspect.unwrap(fn)


class Adam(torch.optim.Adam):
    """torch.optim.Adam (fused=/foreach= as torch takes them), built and stepped without importing
    torch._dynamo. Profiler labels and step hooks stay: torch adds them to this class too."""

    add_param_group = _undecorated(torch.optim.Optimizer.add_param_group)
    zero_grad = _undecorated(torch.optim.Optimizer.zero_grad)
    state_dict = _undecorated(torch.optim.Optimizer.state_dict)
    load_state_dict = _undecorated(torch.optim.Optimizer.load_state_dict)
    _adam_step = _undecorated(torch.optim.Adam.step)

    def step(self, closure=None):
        with torch.no_grad():  # what torch's step wrapper does besides the import (differentiable=False)
            return self._adam_step(closure)


_PLAIN_WRAPPERS = (nn.parallel.DistributedDataParallel, nn.DataParallel)


def unwrap(accelerator, module: nn.Module) -> nn.Module:
    """`accelerator.unwrap_model(module)` (autocast kept). Until torch._dynamo is imported nothing
    can be a compiled module, so then only DDP / DataParallel are unwrapped here, and any other
    wrapper (FSDP, DeepSpeed) goes to Accelerate."""
    if "torch._dynamo" in sys.modules:
        return accelerator.unwrap_model(module)
    while isinstance(module, _PLAIN_WRAPPERS):
        module = module.module
    if type(module).__module__.startswith(("torch.distributed", "deepspeed")):
        return accelerator.unwrap_model(module)
    return module
