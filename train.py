"""Train one genlat run: `python train.py --zn 100` or `accelerate launch train.py --zn 100`.

This is the `program:` of sweep.yaml; every flag is a field of genlat.config.TrainConfig.
"""

import sys

from genlat.cli import train_main

if __name__ == "__main__":
    sys.exit(train_main())
