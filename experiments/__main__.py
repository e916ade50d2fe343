"""``python -m experiments compare|report|validate`` (the same as ``mapper-gym ...``)."""

import sys

from experiments.cli import main

sys.exit(main())
