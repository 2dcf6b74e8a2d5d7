"""Which images each process gets in each epoch, and the `ImageSource` contract built on it.

One epoch is a permutation of the dataset's indices drawn from a generator seeded by
(seed, epoch), cut into steps of `world_size` consecutive batches; rank r takes the r-th batch
of every step. So the shards are disjoint, every rank gets the same number of batches (the
remainder is dropped), all ranks together see what one process with batch B*world_size would,
and an epoch can be replayed exactly after a restart, in any process.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from genlat.errors import DataError


def epoch_seed(seed: int, epoch: int) -> int:
    """(seed, epoch) hashed (splitmix64) to 32 bits: torch's CPU generator (mt19937) ignores the
    high 32 bits of its seed, so packing both numbers into 64 bits would make seeds collide."""
    m = 2**64 - 1
    z = (((seed & 0xFFFFFFFF) << 32 | (epoch & 0xFFFFFFFF)) + 0x9E3779B97F4A7C15) & m
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m
    return (z ^ (z >> 31)) & 0xFFFFFFFF


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """A CPU generator that depends on (seed, epoch) only."""
    return torch.Generator().manual_seed(epoch_seed(seed, epoch))


def steps_per_epoch(n: int, batch_size: int, world_size: int = 1) -> int:
    """Full batches each rank gets from `n` images (drop_last)."""
    return n // (batch_size * world_size)


def epoch_batches(
    n: int, batch_size: int, epoch: int, seed: int, rank: int = 0, world_size: int = 1
) -> list[torch.Tensor]:
    """Rank `rank`'s batches of epoch `epoch`: a list of LongTensors (batch_size,) of indices into range(n)."""
    if not 0 <= rank < world_size:
        raise ValueError(f"rank {rank} is not in [0, {world_size})")
    steps = steps_per_epoch(n, batch_size, world_size)
    perm = torch.randperm(n, generator=epoch_generator(seed, epoch))  # (n,)
    perm = perm[: steps * world_size * batch_size].view(steps, world_size, batch_size)
    return list(perm[:, rank])


class ImageSource:
    """What the trainer reads images from; subclasses set the attributes and implement `batches`.

    Attributes: name ("shapes", "mnist", "folder:/path"), channels (1 or 3), image_size,
    seed (of the data order), size (images per epoch, `len(source)`) and has_factors (each image
    is one object drawn from known factors: the shipped factor net reads them, and the shapes-only
    measures count objects).
    """

    name: str
    channels: int
    image_size: int
    seed: int
    size: int
    has_factors = False

    def __len__(self) -> int:
        return self.size

    def steps_per_epoch(self, batch_size: int, world_size: int = 1) -> int:
        """Full batches each rank gets per epoch; a DataError when that is none at all."""
        steps = steps_per_epoch(len(self), batch_size, world_size)
        if steps == 0:
            fixes = [
                *(["lower --batch_size"] if batch_size > 1 else []),
                *(["use fewer processes"] if world_size > 1 else []),
                "raise --epoch_size (or add images)",
            ]
            raise DataError(
                f"{self.name} has {len(self)} images per epoch, fewer than one step needs "
                f"({batch_size} x {world_size} processes): {' or '.join(fixes)}"
            )
        return steps

    def epoch_indices(self, epoch: int, batch_size: int, rank: int = 0, world_size: int = 1) -> list[torch.Tensor]:
        self.steps_per_epoch(batch_size, world_size)  # refuse an epoch with no step
        return epoch_batches(len(self), batch_size, epoch, self.seed, rank, world_size)

    def batches(
        self, epoch: int, batch_size: int, rank: int = 0, world_size: int = 1, device=None
    ) -> Iterator[torch.Tensor]:
        """Yield steps_per_epoch float32 tensors (B, C, H, W) in [-1, 1] on `device`."""
        raise NotImplementedError

    def held_out(self, n: int) -> torch.Tensor:
        """n real images (N, C, H, W) float32 in [-1, 1] on the CPU that training does not see, where
        the data allows: the evaluation's real images and the VAE's fixed ones. The same images for
        the same settings in every process and run (they depend on no seed but the data's)."""
        raise NotImplementedError
