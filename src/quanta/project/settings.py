"""Environment-specific settings: a profile from mesh.yaml and ``QUANTA_*`` variables.

Precedence (highest first): ``QUANTA_ENGINE`` / ``QUANTA_STORAGE`` / ``QUANTA_STORAGE_ENDPOINT`` /
``QUANTA_CACHE`` / ``QUANTA_CATALOG`` / ``QUANTA_THREADS`` / ``QUANTA_MEMORY_LIMIT``, then the
selected profile (``--profile`` or ``QUANTA_PROFILE``), then ``platform:`` in mesh.yaml, then
built-in defaults.
"""

from __future__ import annotations

from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

from quanta.errors import ConfigError
from quanta.spec.mesh import Mesh, Platform


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


def resolve_platform(
    mesh: Mesh, profile: str | None = None, environment: EnvironmentSettings | None = None
) -> Platform:
    """The effective platform settings for ``mesh`` under ``profile`` and the environment."""
    environment = environment or EnvironmentSettings()
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
    overrides = environment.model_dump(exclude_none=True, exclude={"profile"})
    values.update({Platform.model_fields[name].alias or name: value for name, value in overrides.items()})
    return Platform.model_validate(values)
