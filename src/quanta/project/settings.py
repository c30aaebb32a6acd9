"""Environment-specific settings: a profile from mesh.yaml and ``QUANTA_*`` variables.

Precedence (highest first): command-line options (``--catalog``, ``--storage``), then
``QUANTA_ENGINE`` / ``QUANTA_STORAGE`` / ``QUANTA_STORAGE_ENDPOINT`` / ``QUANTA_CACHE`` /
``QUANTA_CATALOG`` / ``QUANTA_THREADS`` / ``QUANTA_MEMORY_LIMIT``, then the selected profile
(``--profile`` or ``QUANTA_PROFILE``), then ``platform:`` in mesh.yaml, then built-in defaults.
Without a mesh, the catalog (and, to read data, the storage) must be named by an option or a
variable. ``QUANTA_RUN_LEASE`` (seconds) sets how long a build run's lease lasts between heartbeats.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from quanta.errors import ConfigError
from quanta.spec.mesh import Mesh, PlatformSettings


class EnvironmentSettings(BaseSettings):
    """Overrides read from the environment (never from specs)."""

    model_config = SettingsConfigDict(env_prefix="QUANTA_", extra="ignore")

    profile: str | None = None
    engine: Literal["duckdb", "spark"] | None = None
    storage: str | None = None
    storage_endpoint: str | None = None
    cache: str | None = None
    catalog: str | None = None
    threads: int | None = None
    memory_limit: str | None = None
    run_lease: float | None = Field(default=None, gt=0, le=86400)


def environment_settings() -> EnvironmentSettings:
    """The ``QUANTA_*`` variables; a bad value is a configuration error naming the variable."""
    try:
        return EnvironmentSettings()
    except ValidationError as exc:
        problems = "; ".join(f"QUANTA_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        raise ConfigError(problems) from None


def resolve_platform(
    mesh: Mesh, profile: str | None = None, environment: EnvironmentSettings | None = None
) -> PlatformSettings:
    """The effective platform settings for ``mesh`` under ``profile`` and the environment."""
    environment = environment or environment_settings()
    chosen = profile or environment.profile
    values = mesh.platform.model_dump(by_alias=True)
    if chosen:
        override = mesh.profiles.get(chosen)
        if override is None:
            known = ", ".join(sorted(mesh.profiles)) or "none"
            raise ConfigError(
                f"profile '{chosen}' is not defined under `profiles:` in mesh.yaml "
                f"(looked at --profile and QUANTA_PROFILE; defined: {known})"
            )
        values.update(override.model_dump(by_alias=True, exclude_none=True))
    return _with_overrides(values, environment)


def resolve_standalone(
    catalog: str | None = None, storage: str | None = None, environment: EnvironmentSettings | None = None
) -> PlatformSettings:
    """Settings without a mesh: the catalog from ``catalog`` or ``QUANTA_CATALOG`` (required), the
    storage from ``storage`` or ``QUANTA_STORAGE``."""
    environment = environment or environment_settings()
    url = catalog or environment.catalog
    if not url:
        raise ConfigError(
            "no mesh here and no catalog named: run inside a mesh folder (or pass --mesh), or name a catalog "
            "with --catalog or QUANTA_CATALOG (looked at ./mesh.yaml, --catalog and QUANTA_CATALOG)"
        )
    values = PlatformSettings().model_dump(by_alias=True)
    settings = _with_overrides(values, environment)
    update = {"catalog": url}
    if storage:
        update["storage"] = storage
    elif not environment.storage:
        update["storage"] = ""  # no storage: reading data says where it looked
    return settings.model_copy(update=update)


def _with_overrides(values: dict[str, object], environment: EnvironmentSettings) -> PlatformSettings:
    overrides = environment.model_dump(exclude_none=True, exclude={"profile", "run_lease"})
    values.update({PlatformSettings.model_fields[name].alias or name: value for name, value in overrides.items()})
    return PlatformSettings.model_validate(values)
