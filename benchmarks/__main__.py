"""`python -m benchmarks`: the training-speed benchmark (the same as `python -m benchmarks.train_speed`)."""

import sys

from benchmarks.train_speed import main

sys.exit(main())
