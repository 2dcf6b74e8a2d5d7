"""Train one genlat run: `python train.py --zn 100` or `accelerate launch train.py --zn 100`.

This is the `program:` of sweep.yaml; every flag is a field of genlat.config.TrainConfig.
"""

import gc
import sys

from genlat.cli import train_main

if __name__ == "__main__":
    code = train_main()
    # The run is over: its files are written (fsynced) and W&B has finished. What is left is Python
    # tearing its modules down, whose garbage collections walk every object torch, accelerate and
    # wandb made: ≈ 1 CPU-s of every run's fixed cost here. Frozen objects are not walked; exit
    # handlers (W&B's) still run. Only here, in the script: a process that goes on keeps collecting.
    gc.freeze()
    sys.exit(code)
