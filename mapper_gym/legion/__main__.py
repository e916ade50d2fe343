"""``python -m mapper_gym.legion install|build|info|run``: see :mod:`mapper_gym.legion.cli`."""

from mapper_gym.legion.cli import main

raise SystemExit(main())
