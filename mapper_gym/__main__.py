"""Allow `python -m mapper_gym`."""

from mapper_gym.cli import main

raise SystemExit(main())
