"""Gymnasium ids of the nine mapping problems, registered by ``import mapper_gym``.

Gymnasium 1.x does not load entry points of installed packages by itself, so the package
registers its environments when it is imported. Registration only records an entry-point
*string*: the environment module, the simulator and the application models are imported when
an environment is made, so ``import mapper_gym`` stays cheap for the CLI and for tools that
never make an environment.
"""

from __future__ import annotations

__all__ = ["APP_ENV_IDS", "ENTRY_POINT", "env_id", "register_envs"]

#: The nine applications in the paper's order (the same names as ``benchmarks.APP_NAMES``,
#: repeated here so that registering does not import the application models).
_APPS: tuple[str, ...] = (
    "Circuit", "Stencil", "Pennant", "Cannon", "SUMMA", "PUMMA", "Johnson", "Solomonik", "COSMA",
)

#: Environment id of each application.
APP_ENV_IDS: dict[str, str] = {app: f"Mapper-{app}-v0" for app in _APPS}

#: Where Gymnasium finds the environment class.
ENTRY_POINT = "mapper_gym.envs:MapperEnv"


def env_id(app: str) -> str:
    """The Gymnasium id of application ``app`` (case-insensitive)."""
    for name, ident in APP_ENV_IDS.items():
        if name.lower() == app.lower():
            return ident
    raise KeyError(f"unknown application {app!r}; known: {', '.join(APP_ENV_IDS)}")


def register_envs() -> None:
    """Register every ``Mapper-<App>-v0`` id that is not registered yet (idempotent)."""
    from gymnasium.envs.registration import register, registry

    for app, ident in APP_ENV_IDS.items():
        if ident in registry:
            continue
        register(id=ident, entry_point=ENTRY_POINT, kwargs={"app": app})
