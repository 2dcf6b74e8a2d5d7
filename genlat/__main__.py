import sys

from genlat.cli import main

sys.exit(main())
