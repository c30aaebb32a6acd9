"""The closed set of diagnostic codes a spec can produce, each with its meaning.

Tests assert that every diagnostic carries one of these codes; the docs list them.
"""

from __future__ import annotations

import enum


class Code(enum.StrEnum):
    """A stable, documented diagnostic code."""

    # reading files
    FILE_NOT_FOUND = "file-not-found"
    NOT_A_FILE = "not-a-file"
    FILE_TOO_LARGE = "file-too-large"
    YAML_SYNTAX = "yaml-syntax"
    YAML_TOO_COMPLEX = "yaml-too-complex"
    DUPLICATE_KEY = "duplicate-key"
    NOT_A_MAPPING = "not-a-mapping"
    WRONG_KIND = "wrong-kind"
    UNSUPPORTED_API_VERSION = "unsupported-api-version"
    # structure
    MISSING_FIELD = "missing-field"
    UNKNOWN_FIELD = "unknown-field"
    INVALID_TYPE = "invalid-type"
    INVALID_VALUE = "invalid-value"
    UNKNOWN_TYPE = "unknown-type"
    DUPLICATE_ID = "duplicate-id"
    SECRET_IN_SPEC = "secret-in-spec"
    NO_PRODUCTS = "no-products"
    TOO_MANY_ERRORS = "too-many-errors"
    # references across the mesh
    UNKNOWN_PRODUCT = "unknown-product"
    UNKNOWN_MAJOR = "unknown-major"
    UNKNOWN_SYSTEM = "unknown-system"
    UNKNOWN_DOMAIN = "unknown-domain"
    MISSING_DOMAIN = "missing-domain"
    UNKNOWN_ROLE = "unknown-role"
    UNKNOWN_PORT = "unknown-port"
    UNKNOWN_PROPERTY = "unknown-property"
    UNKNOWN_USE_CASE = "unknown-use-case"
    UNKNOWN_ENGINE = "unknown-engine"
    ENGINE_UNSUPPORTED = "engine-unsupported"
    UNKNOWN_BUSINESS_KEY = "unknown-business-key"
    BUSINESS_KEY_TYPE = "business-key-type"
    INVALID_ROW_FILTER = "invalid-row-filter"
    MASK_UNDEFINED_FOR_TYPE = "mask-undefined-for-type"
    MASK_NOT_CLASSIFIED = "mask-not-classified"
    DEPENDENCY_CYCLE = "dependency-cycle"
    DUPLICATE_PRODUCT = "duplicate-product"
    SQL_NAME_COLLISION = "sql-name-collision"
    MISSING_FILE = "missing-file"
    FILE_OUTSIDE_PRODUCT = "file-outside-product"
    # design rules (quanta design check)
    JOB_DESCRIPTION_MISSING = "job-description-missing"
    JOB_DESCRIPTION_LONG = "job-description-long"
    JOB_DESCRIPTION_CONCEPTS = "job-description-concepts"
    JOB_DESCRIPTION_VAGUE = "job-description-vague"
    USE_CASE_UNTRACED = "use-case-untraced"
    UNUSED_PRODUCT = "unused-product"
    MISSING_SHARED_KEY = "missing-shared-key"
    TOO_MANY_USE_CASES = "too-many-use-cases"
    CONSUMER_WITHOUT_SLOS = "consumer-without-slos"
    FRESHNESS_UNACHIEVABLE = "freshness-unachievable"
    DESIGN_CONFLICT = "design-conflict"


CODE_DOCS: dict[Code, str] = {
    Code.FILE_NOT_FOUND: "A mesh or product file named on the command line or in `products:` does not exist.",
    Code.NOT_A_FILE: "A spec path names a FIFO, a device, a socket or a folder instead of a regular file.",
    Code.FILE_TOO_LARGE: "A spec file is larger than 1 MiB; it is refused unread.",
    Code.YAML_SYNTAX: "The file is not valid YAML; the location is where the parser gave up.",
    Code.YAML_TOO_COMPLEX: (
        "Aliases expand the document beyond 200,000 values or 4 MiB of text, an alias refers to its own "
        "anchor, or values nest deeper than 64 levels."
    ),
    Code.DUPLICATE_KEY: "A mapping repeats a key; YAML would silently keep the last one, Quanta refuses.",
    Code.NOT_A_MAPPING: "The document is not a mapping (for example an empty file or a list).",
    Code.WRONG_KIND: "`kind:` is not the one expected here (`Mesh` for mesh.yaml, `DataProduct` for products).",
    Code.UNSUPPORTED_API_VERSION: "`apiVersion:` is not one this Quanta understands (`quanta/v1`).",
    Code.MISSING_FIELD: "A required field is absent.",
    Code.UNKNOWN_FIELD: "A field that the model does not define (often a typo; the hint suggests the closest).",
    Code.INVALID_TYPE: "A value has the wrong type (a list where a string is expected, …).",
    Code.INVALID_VALUE: "A value has the right type but is not allowed (pattern, range, enum, cron, duration, regex).",
    Code.UNKNOWN_TYPE: "The `type:` of an input, output or transform names no known plugin.",
    Code.DUPLICATE_ID: "Two siblings share an id or name (ports, inputs, properties, domains, roles, use cases…).",
    Code.SECRET_IN_SPEC: "A credential appears in a spec; secrets belong in profiles or environment variables.",
    Code.NO_PRODUCTS: "A `products:` pattern of the mesh matches no file (warning).",
    Code.TOO_MANY_ERRORS: "A file has more than 100 validation errors; the rest are counted, not shown.",
    Code.UNKNOWN_PRODUCT: "A reference names a product (`domain.name`) that the mesh does not contain.",
    Code.UNKNOWN_MAJOR: "A product input pins a major version the referenced product does not have.",
    Code.UNKNOWN_SYSTEM: "A source input or the glossary names an undeclared system of record.",
    Code.UNKNOWN_ENGINE: (
        "`engine:` (under `platform:`, a profile or a product's `transform:`) names no registered engine."
    ),
    Code.ENGINE_UNSUPPORTED: (
        "A product asks its engine for something it cannot do (a Python transform taking data frames on an "
        "engine that has none)."
    ),
    Code.UNKNOWN_DOMAIN: "A product, system or use case names a domain not declared in mesh.yaml.",
    Code.MISSING_DOMAIN: "A product has no owning domain (a warning while `proposed`, an error after).",
    Code.UNKNOWN_ROLE: "A grant names a role not declared in mesh.yaml.",
    Code.UNKNOWN_PORT: "A grant, SLO or use case names an output port id the product does not have.",
    Code.UNKNOWN_PROPERTY: "A grant, SLO, port option or row filter names a property the schema does not have.",
    Code.UNKNOWN_USE_CASE: "`introducedBy` names a use case not declared in mesh.yaml.",
    Code.UNKNOWN_BUSINESS_KEY: "A property's `businessKey` is not in the mesh glossary.",
    Code.BUSINESS_KEY_TYPE: "A business-key property's logicalType differs from the glossary's.",
    Code.INVALID_ROW_FILTER: "A grant's row filter is not a SQL boolean expression that parses.",
    Code.MASK_UNDEFINED_FOR_TYPE: (
        "A mask (mesh.yaml `masks:` for the property's classification, or a grant's `masks:`) has no defined "
        "result for the property's logicalType (`partial` is for strings; `hash` for scalars)."
    ),
    Code.MASK_NOT_CLASSIFIED: "A grant's `masks:` names a property that is not classified, so nothing masks it.",
    Code.DEPENDENCY_CYCLE: "Products depend on each other in a cycle.",
    Code.DUPLICATE_PRODUCT: "Two product specs have the same domain, name and major version.",
    Code.SQL_NAME_COLLISION: "Two products derive the same SQL name.",
    Code.MISSING_FILE: "A file the spec refers to (SQL step, Python entry point, template) does not exist.",
    Code.FILE_OUTSIDE_PRODUCT: (
        "A report template lies outside the product folder (an absolute path, `..`, or a symlink leading out)."
    ),
    Code.JOB_DESCRIPTION_MISSING: "Design: a product has no job description (`description:`).",
    Code.JOB_DESCRIPTION_LONG: "Design: the job description is longer than two sentences or about 40 words.",
    Code.JOB_DESCRIPTION_CONCEPTS: (
        "Design: the job description strings several concepts together with 'and' or lists them with commas."
    ),
    Code.JOB_DESCRIPTION_VAGUE: "Design: the job description is a vague one-liner (e.g. 'Customer data.').",
    Code.USE_CASE_UNTRACED: "Design: a use case does not trace back through products to a system of record.",
    Code.UNUSED_PRODUCT: "Design: no use case and no product consumes the product.",
    Code.MISSING_SHARED_KEY: "Design: products joined by a consumer share no business key.",
    Code.TOO_MANY_USE_CASES: "Design: more than five use cases on one map (diminishing returns).",
    Code.CONSUMER_WITHOUT_SLOS: "Design: a product that serves a use case declares no SLOs.",
    Code.FRESHNESS_UNACHIEVABLE: "A consumer is promised fresher data than its inputs and schedule allow.",
    Code.DESIGN_CONFLICT: (
        "Design: an edit contradicts the mesh (the product has another owner, is not in the status the edit "
        "needs, already has the property or input, or has published snapshots)."
    ),
}
