"""Environment-specific settings: a profile from mesh.yaml and ``QUANTA_*`` variables.

Precedence (highest first): command-line options (``--catalog``, ``--storage``), then
``QUANTA_ENGINE`` / ``QUANTA_MASTER`` / ``QUANTA_STORAGE`` / ``QUANTA_STORAGE_ENDPOINT`` / ``QUANTA_CACHE`` /
``QUANTA_CATALOG`` / ``QUANTA_THREADS`` / ``QUANTA_MEMORY_LIMIT``, then the selected profile
(``--profile`` or ``QUANTA_PROFILE``), then ``platform:`` in mesh.yaml, then built-in defaults.
Without a mesh, the catalog (and, to read data, the storage) must be named by an option or a
variable. ``QUANTA_RUN_LEASE`` (seconds) sets how long a build run's lease lasts between heartbeats.

OIDC bearer tokens (``oidc:`` under ``platform:`` or a profile, which replaces it as a whole) take
each field from ``QUANTA_OIDC_<FIELD>`` too (``QUANTA_OIDC_ISSUER``, ``QUANTA_OIDC_AUDIENCE``,
``QUANTA_OIDC_JWKS``, ``QUANTA_OIDC_ROLES_CLAIM``, …), field by field over the profile; the
variables alone configure OIDC when mesh.yaml has none. ``QUANTA_OIDC_ALGORITHMS`` is a
comma-separated list, ``QUANTA_OIDC_ATTRIBUTE_CLAIMS`` comma-separated ``name=claim`` pairs.

``QUANTA_SERVER_SECRET`` (at least 32 characters) is the key ``quanta serve`` signs pagination
cursors with; every process serving one platform must share it (without it each process makes a
random key of its own, so a cursor only works on the process that issued it).
``QUANTA_TLS_CERT`` and ``QUANTA_TLS_KEY`` (PEM files) make ``quanta serve`` answer HTTPS.

``QUANTA_AUDIT_KEY`` (at least 32 characters) turns the audit log on and keys its HMAC chain;
``QUANTA_WEBHOOK_URL`` and ``QUANTA_WEBHOOK_SECRET`` deliver catalog events to a webhook. Secrets
come from the environment only, never from mesh.yaml.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, SecretStr, ValidationError
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict

from quanta.errors import ConfigError
from quanta.faults import CHECKPOINTS
from quanta.spec.mesh import MAX_THREADS, MemoryLimit, Mesh, OidcSettings, PlatformSettings, Setting


def _check_fault(value: str) -> str:
    if value not in CHECKPOINTS:
        raise ValueError("must name a checkpoint: " + ", ".join(CHECKPOINTS))
    return value


Fault = Annotated[str, AfterValidator(_check_fault)]


def _check_engine(value: str) -> str:
    from quanta.engines.registry import EngineRegistry

    known = EngineRegistry.default().names()
    if value not in known:
        raise ValueError("must name a registered engine: " + ", ".join(known))
    return value


RegisteredEngine = Annotated[str, AfterValidator(_check_engine)]


class EnvironmentSettings(BaseSettings):
    """Overrides read from the environment (never from specs), validated like the settings they
    override; an empty variable counts as unset, a blank one is an error."""

    model_config = SettingsConfigDict(env_prefix="QUANTA_", extra="ignore", env_ignore_empty=True)

    profile: Setting | None = None
    engine: RegisteredEngine | None = None
    master: Setting | None = None
    storage: Setting | None = None
    storage_endpoint: Setting | None = None
    cache: Setting | None = None
    catalog: Setting | None = None
    threads: Annotated[int, Field(ge=1, le=MAX_THREADS)] | None = None
    memory_limit: MemoryLimit | None = None
    run_lease: float | None = Field(default=None, gt=0, le=86400, allow_inf_nan=False)
    server_secret: SecretStr | None = Field(default=None, min_length=32)
    """The key pagination cursors and web sessions are signed with (shared by every serving process)."""
    tls_cert: Setting | None = None
    """``quanta serve``: the PEM certificate (chain) to serve HTTPS with."""
    tls_key: Setting | None = None
    """``quanta serve``: the PEM private key of ``tls_cert`` (unless the certificate file holds it)."""
    fault: Fault | None = None
    """A fault-injection checkpoint (tests only, :mod:`quanta.faults`)."""
    # OIDC: text here, validated as the field of OidcSettings it overrides (see oidc_settings)
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks: str | None = None
    oidc_algorithms: str | None = None
    oidc_subject_claim: str | None = None
    oidc_roles_claim: str | None = None
    oidc_team_claim: str | None = None
    oidc_attribute_claims: str | None = None
    oidc_admin_role: str | None = None
    oidc_leeway: str | None = None
    oidc_jwks_ttl: str | None = None
    oidc_jwks_refetch: str | None = None
    oidc_client_id: str | None = None
    oidc_authorization_endpoint: str | None = None
    oidc_token_endpoint: str | None = None
    oidc_scopes: str | None = None
    oidc_client_secret: SecretStr | None = None
    """The web catalog's client secret at the IdP (a confidential client; PKCE alone needs none)."""


def environment_settings() -> EnvironmentSettings:
    """The ``QUANTA_*`` variables; a bad value is a configuration error naming the variable (never
    showing the value, which may hold a credential)."""
    try:
        return EnvironmentSettings()
    except ValidationError as exc:
        raise ConfigError("; ".join(_problem(error) for error in exc.errors())) from None


def _problem(error: ErrorDetails) -> str:
    variable = "QUANTA_" + "_".join(str(part) for part in error["loc"][:1]).upper()
    message = str((error.get("ctx") or {}).get("error", "")) if error["type"] == "value_error" else ""
    return f"{variable}: {message or error['msg']}"


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
        if override.oidc is not None:  # a profile's oidc: replaces the platform's, explicit nulls included
            values["oidc"] = override.oidc.model_dump(by_alias=True)
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


def _with_overrides(values: dict[str, Any], environment: EnvironmentSettings) -> PlatformSettings:
    oidc = {f"oidc_{name}" for name in OidcSettings.model_fields}
    excluded = {"profile", "run_lease", "fault", "server_secret", "tls_cert", "tls_key", "oidc_client_secret", *oidc}
    overrides = environment.model_dump(exclude_none=True, exclude=excluded)
    values.update({PlatformSettings.model_fields[name].alias or name: value for name, value in overrides.items()})
    values["oidc"] = oidc_settings(values.get("oidc"), environment)
    return PlatformSettings.model_validate(values)


def oidc_settings(configured: dict[str, Any] | None, environment: EnvironmentSettings) -> OidcSettings | None:
    """The OIDC settings: ``configured`` (from mesh.yaml, by alias) with each ``QUANTA_OIDC_*``
    variable overriding its field. A bad variable is named (its value never shown); a field missing
    everywhere names both places it can come from."""
    given = {
        name: text for name in OidcSettings.model_fields if (text := getattr(environment, f"oidc_{name}")) is not None
    }
    if not given:
        return OidcSettings.model_validate(configured) if configured else None
    values = dict(configured or {})
    for name, text in given.items():
        values[OidcSettings.model_fields[name].alias or name] = _oidc_value(name, text)
    try:
        return OidcSettings.model_validate(values)
    except ValidationError as exc:
        raise ConfigError("; ".join(_oidc_problem(error) for error in exc.errors())) from None


def _oidc_value(name: str, text: str) -> object:
    """A variable's text as the field takes it: lists and maps are comma-separated."""
    if name in ("algorithms", "scopes"):
        return [part.strip() for part in text.split(",")]
    if name == "attribute_claims":
        pairs = [part.partition("=") for part in text.split(",")]
        if any(not key.strip() or not sep or not claim.strip() for key, sep, claim in pairs):
            raise ConfigError("QUANTA_OIDC_ATTRIBUTE_CLAIMS: write name=claim pairs separated by commas")
        return {key.strip(): claim.strip() for key, _, claim in pairs}
    return text


def _oidc_problem(error: ErrorDetails) -> str:
    by_alias = {field.alias or name: name for name, field in OidcSettings.model_fields.items()}
    name = by_alias.get(str(error["loc"][0]), str(error["loc"][0])) if error["loc"] else ""
    variable = f"QUANTA_OIDC_{name.upper()}"
    if error["type"] == "missing":
        alias = OidcSettings.model_fields[name].alias or name
        return f"OIDC needs `{alias}`: looked at `oidc:` under platform: or the profile in mesh.yaml and at {variable}"
    message = str((error.get("ctx") or {}).get("error", "")) if error["type"] == "value_error" else ""
    return f"{variable}: {message or error['msg']}"
