"""Seeds derived from the run's seed, so every stream (per-epoch noise, evaluation z) is reproducible.

New streams use `derived_seed`. Three older schemes stay as they are, because changing them would
change the numbers of existing runs (a resumed run would replay different data or z):
the latent bank (seed + latent.BANK_SEED_OFFSET), the epoch's data order (data.sampler.epoch_seed,
splitmix64 to 32 bits) and the weight init (torch.manual_seed(seed) in models.build_models).
torch's CPU generator keeps only the low 32 bits of a seed; derived_seed's are 63-bit hashes, so
their low bits are as good as any."""

from __future__ import annotations

import hashlib


def derived_seed(*parts) -> int:
    """A stable 63-bit seed from any parts (same value in every process and Python version)."""
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)
