"""The mesh spec (``mesh.yaml``): platform defaults, domains, roles, glossary, systems, use cases."""

from __future__ import annotations

import re
from pathlib import Path, PureWindowsPath
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field

from quanta.spec.base import EngineName, Name, ProductRef, PropertyName, Regex, SpecModel
from quanta.spec.masks import Mask
from quanta.spec.schema import LogicalType

MAX_THREADS = 1024


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


Setting = Annotated[str, AfterValidator(_not_blank)]
"""A platform setting given as text: never empty or blank."""
Threads = Annotated[int, Field(strict=True, ge=1, le=MAX_THREADS)]
"""Engine threads: a whole number from 1 to 1024 (``true`` or ``2.5`` are refused)."""
MemoryLimit = Annotated[str, Field(pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")]
"""An engine memory limit such as ``4GB``."""


def _check_glob(pattern: str) -> str:
    """A product glob stays inside the mesh folder: relative, without ``..``."""
    if not pattern.strip():
        raise ValueError("a product glob must not be empty")
    if pattern.startswith(("/", "\\")) or PureWindowsPath(pattern).drive:
        raise ValueError(f"'{pattern}' is absolute; product globs are relative to mesh.yaml")
    parts = {part for part in re.split(r"[/\\]", pattern) if part}
    if ".." in parts:
        raise ValueError(f"'{pattern}' leads out of the mesh folder ('..'); product specs live inside it")
    if parts <= {"."}:
        raise ValueError(f"'{pattern}' names the mesh folder itself, not product files")
    return pattern


MaskedClassification = Literal["confidential", "restricted", "pii", "sensitive"]
"""A classification that is masked unless a grant unmasks it."""

ProductGlob = Annotated[str, AfterValidator(_check_glob)]
"""A glob, relative to mesh.yaml, that stays inside the mesh folder."""


ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
"""The JWS algorithms a bearer token may be signed with: public-key ones only, so a JWKS of public
keys can never be used as a shared secret (no ``HS*``, never ``none``)."""
_LOOPBACK = ("localhost", "127.0.0.1", "::1")


def check_algorithm(value: str) -> str:
    """A JWS algorithm a bearer token may use (an asymmetric one)."""
    if value in ASYMMETRIC_ALGORITHMS:
        return value
    if value.lower() == "none" or value.upper().startswith("HS"):
        raise ValueError(
            "'none' and shared-secret algorithms (HS256, HS384, HS512) are refused: bearer tokens are verified "
            "with the public keys of a JWKS, so only asymmetric algorithms are accepted ("
            + ", ".join(ASYMMETRIC_ALGORITHMS)
            + ")"
        )
    raise ValueError("not an accepted algorithm: use " + ", ".join(ASYMMETRIC_ALGORITHMS))


def check_jwks(value: str) -> str:
    """A JWKS source: a file path, an ``https://`` URL, or an ``http://`` URL on loopback."""
    _not_blank(value)
    if "://" not in value or _secure_url(value):
        return value
    raise ValueError("a JWKS URL must use https:// (plain http:// only on loopback); or name a file")


def _secure_url(value: str) -> bool:
    """Whether ``value`` is an ``https://`` URL, or ``http://`` on loopback."""
    parts = urlsplit(value)
    return (parts.scheme == "https" and bool(parts.hostname)) or (
        parts.scheme == "http" and parts.hostname in _LOOPBACK
    )


def _check_claim(value: str) -> str:
    if not value.strip() or any(c.isspace() for c in value):
        raise ValueError("a claim name must be non-empty, without spaces")
    return value


JwsAlgorithm = Annotated[str, AfterValidator(check_algorithm)]
"""An asymmetric JWS algorithm (``RS256``, ``ES256``, …)."""
JwksSource = Annotated[str, AfterValidator(check_jwks)]
"""Where the JSON Web Key Set is: a file (relative to the mesh) or an ``https://`` URL."""
Claim = Annotated[str, AfterValidator(_check_claim)]
"""A claim name, or a dotted path into nested claims (``realm_access.roles``)."""


def check_endpoint(value: str) -> str:
    """An IdP endpoint: an ``https://`` URL, or ``http://`` on loopback."""
    if _secure_url(value):
        return value
    raise ValueError("an OIDC endpoint must be an https:// URL (plain http:// only on loopback)")


Endpoint = Annotated[str, AfterValidator(check_endpoint)]
"""An identity provider's URL (https, or http on loopback)."""


class OidcSettings(SpecModel):
    """OIDC / JWT bearer tokens: who issues them, for whom, the keys that sign them, and how their
    claims map to a principal. Every value is public (no secret is needed to verify a token)."""

    issuer: Setting
    """The ``iss`` every token must carry, exactly (e.g. ``https://idp.example.com/realms/acme``)."""
    audience: Setting
    """The ``aud`` every token must hold (the identifier the IdP gives this platform)."""
    jwks: JwksSource
    """The IdP's public keys: a JWKS file (relative to the mesh) or its ``https://`` URL."""
    algorithms: list[JwsAlgorithm] = Field(default_factory=lambda: ["RS256", "ES256"], min_length=1)
    """Accepted signing algorithms, asymmetric only."""
    subject_claim: Claim = "sub"
    """The claim whose value is the principal id."""
    roles_claim: Claim | None = "roles"
    """The claim holding roles: a list or a space-separated string; a dotted path reaches nested claims."""
    team_claim: Claim | None = None
    """The claim naming the principal's team."""
    attribute_claims: dict[PropertyName, Claim] = Field(default_factory=dict)
    """Principal attributes (bound by row filters as ``:principal.<name>``), each from a claim."""
    admin_role: Setting | None = None
    """The role (as found in the roles claim) that makes a platform admin; without it no token does."""
    leeway: int = Field(default=30, ge=0, le=300)
    """Seconds of clock skew tolerated on ``exp``, ``nbf`` and ``iat``."""
    jwks_ttl: int = Field(default=600, ge=1, le=86400)
    """Seconds a JWKS fetched from a URL is used before it is fetched again."""
    jwks_refetch: int = Field(default=60, ge=0, le=3600)
    """Least seconds between fetches of a JWKS URL, however many unknown key ids arrive."""
    client_id: Setting | None = None
    """The web catalog's client id at the IdP: with it, the sign-in page offers signing in through
    the IdP (authorization code flow with PKCE; a confidential client's secret is read from
    ``QUANTA_OIDC_CLIENT_SECRET``, never from a spec). The access token it returns is verified as
    a bearer token (``audience`` and all)."""
    authorization_endpoint: Endpoint | None = None
    """Where the browser is sent to sign in; default: from the issuer's discovery document
    (``<issuer>/.well-known/openid-configuration``)."""
    token_endpoint: Endpoint | None = None
    """Where the code is exchanged for tokens; default: from the issuer's discovery document."""
    scopes: list[Setting] = Field(default_factory=lambda: ["openid"], min_length=1)
    """Scopes asked for at sign-in (``openid`` and what the IdP needs to put roles in the token)."""

    def under(self, root: Path) -> OidcSettings:
        """These settings with a relative JWKS file made absolute against ``root``."""
        if "://" in self.jwks or Path(self.jwks).is_absolute():
            return self
        return self.model_copy(update={"jwks": str(root / self.jwks)})


class PlatformSettings(SpecModel):
    """Platform defaults; a profile or ``QUANTA_*`` environment variables override them."""

    engine: EngineName = "duckdb"
    """Build engine: a registered engine's name."""
    master: Setting | None = None
    """Where a distributed engine runs (Spark: ``local[*]``, ``spark://host:7077`` or Spark Connect's
    ``sc://host:15002``); ``local[*]`` when omitted. Credentials come from the environment."""
    engine_conf: dict[str, Setting] = Field(default_factory=dict)
    """Engine settings passed through as they are (Spark: ``spark.executor.memory``,
    ``spark.sql.shuffle.partitions``, …)."""
    storage: Setting = ".quanta/warehouse"
    """Where snapshots live: a folder (relative to the mesh) or ``s3://bucket/prefix``."""
    storage_endpoint: Setting | None = None
    """S3-compatible endpoint URL (MinIO, moto, …); AWS when omitted. Credentials come from the
    standard AWS environment variables, never from here."""
    cache: Setting = ".quanta/cache"
    """Local folder (relative to the mesh) caching snapshots read from an object store."""
    catalog: Setting = "sqlite:///.quanta/catalog.db"
    """SQLAlchemy URL of the catalog; credentials come from the environment, never from here."""
    threads: Threads | None = None
    """Engine threads (all cores when omitted)."""
    memory_limit: MemoryLimit | None = None
    """Engine memory limit, e.g. ``4GB``."""
    oidc: OidcSettings | None = None
    """OIDC / JWT bearer tokens accepted next to API tokens (none when omitted)."""


class PlatformOverride(SpecModel):
    """A named profile: any platform setting, overriding the defaults."""

    engine: EngineName | None = None
    """Build engine: a registered engine's name."""
    master: Setting | None = None
    """Where a distributed engine runs."""
    engine_conf: dict[str, Setting] | None = None
    """Engine settings passed through; replaces the platform's ``engineConf`` as a whole."""
    storage: Setting | None = None
    """Snapshot location."""
    storage_endpoint: Setting | None = None
    """S3-compatible endpoint URL."""
    cache: Setting | None = None
    """Local cache folder for object-store snapshots."""
    catalog: Setting | None = None
    """Catalog URL (no credentials)."""
    threads: Threads | None = None
    """Engine threads."""
    memory_limit: MemoryLimit | None = None
    """Engine memory limit."""
    oidc: OidcSettings | None = None
    """OIDC bearer tokens for this environment; replaces the platform's ``oidc:`` as a whole."""


class Domain(SpecModel):
    """A business domain that owns products and systems."""

    name: Name
    """Domain name."""
    team: Name | None = None
    """Team accountable for the domain."""
    description: str | None = None
    """What the domain is responsible for."""


class Role(SpecModel):
    """A consumer role that grants refer to."""

    name: Name
    """Role name."""
    description: str | None = None
    """Who holds the role."""


class BusinessKey(SpecModel):
    """A mesh-wide join key (interoperability): same name, type and meaning everywhere."""

    name: PropertyName
    """Key name; properties carrying it name it in ``businessKey``."""
    logical_type: LogicalType
    """Logical type every carrier must use."""
    owner: ProductRef
    """Product holding the reference list of keys (referential integrity is checked against it)."""
    description: str | None = None
    """Meaning of the key and who issues it."""
    pattern: Regex | None = None
    """Shape every key value has."""


class System(SpecModel):
    """A system of record that source inputs come from."""

    name: Name
    """System name."""
    domain: Name
    """Domain owning the system."""
    description: str | None = None
    """What the system holds."""
    technology: str | None = None
    """What it is, e.g. ``Salesforce``, ``PostgreSQL``, ``SFTP drop``."""


class Consumption(SpecModel):
    """A product port a use case consumes."""

    product: ProductRef
    """``<domain>.<name>`` of the product."""
    port: Name
    """Output port id on that product."""
    access: Literal["report", "rest", "sql", "files", "model"] | None = None
    """How the persona accesses it (the port's type)."""


class UseCase(SpecModel):
    """A need of a persona that products are worked backwards from."""

    id: Name
    """Use-case id, referenced by ``introducedBy``."""
    title: str | None = None
    """Short title."""
    persona: str = Field(min_length=1)
    """Who needs it, e.g. ``customer relationship manager``."""
    domain: Name
    """Domain the persona works in."""
    statement: str = Field(min_length=1)
    """'As a …, I need … so that …'."""
    consumes: list[Consumption] = Field(default_factory=list)
    """Product ports that serve it."""


class Mesh(SpecModel):
    """The whole mesh: one ``mesh.yaml`` and its product specs."""

    api_version: Literal["quanta/v1"]
    """Spec format version, ``quanta/v1``."""
    kind: Literal["Mesh"]
    """Always ``Mesh``."""
    name: Name
    """Mesh name."""
    description: str | None = None
    """What this mesh covers."""
    platform: PlatformSettings = Field(default_factory=PlatformSettings)
    """Platform defaults (engine, storage, catalog)."""
    profiles: dict[Name, PlatformOverride] = Field(default_factory=dict)
    """Named overrides of the platform, selected with ``--profile`` or ``QUANTA_PROFILE``."""
    domains: list[Domain] = Field(default_factory=list)
    """Business domains; every product belongs to exactly one."""
    roles: list[Role] = Field(default_factory=list)
    """Consumer roles that grants refer to."""
    business_keys: list[BusinessKey] = Field(default_factory=list)
    """The glossary of mesh-wide join keys."""
    systems: list[System] = Field(default_factory=list)
    """Systems of record that source inputs come from."""
    use_cases: list[UseCase] = Field(default_factory=list)
    """Use cases in overlay order."""
    masks: dict[MaskedClassification, Mask] = Field(default_factory=dict)
    """Mask per classification (``null``, ``redact``, ``partial``, ``hash``); defaults: pii,
    sensitive and confidential ``redact``, restricted ``null``."""
    products: list[ProductGlob] = Field(default_factory=lambda: ["products/**/dataproduct.yaml"])
    """Globs, relative to mesh.yaml, of product spec files."""
