"""``ModelPorts``: a model port's predictions for one caller, through the data plane.

A request is (principal, product major, port, feature rows). The plane decides (default deny, a
refusal audited); the rows are checked against the declared features; the batch is scored by the
port's warm worker with the current snapshot's artefacts, loaded from the published descriptor's
scoring code, never from a checkout; the predictions are checked against the declared outputs, and
the access is audited with the rows scored.

A model port serves artefacts fitted on every row of the snapshot, never rows: a caller whose
grant filters rows, or masks a property the port predicts, is refused (fail closed).
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any

import orjson

from quanta.access import Decision, Principal
from quanta.catalog import AuditEntry
from quanta.errors import AccessDenied, NotFound, QuantaError
from quanta.ports.model.fields import BadPredictions, Field, InvalidFeatures, columns, declared, predictions
from quanta.ports.model.pool import Code, ScoringFailed, WorkerPool
from quanta.read.plane import DataPlane, SecuredRead, Selector
from quanta.spec.base import parse_duration
from quanta.spec.product import DataProduct


@dataclass(frozen=True)
class ModelPortSpec:
    """A model port as served: its fields, limits and entry point."""

    id: str
    entrypoint: str
    features: tuple[Field, ...]
    outputs: tuple[Field, ...]
    max_batch: int
    timeout_s: float
    description: str | None = None


@dataclass(frozen=True)
class Prediction:
    """Scored rows: the snapshot whose artefacts scored them and one column per prediction."""

    snapshot_id: str
    columns: dict[str, list[Any]]
    rows: int

    def body(self) -> bytes:
        """``{"snapshot": id, "predictions": [{name: value, …}, …]}`` as JSON (the values were checked
        finite: orjson would write a NaN as null)."""
        names = list(self.columns)
        rows = [dict(zip(names, values, strict=True)) for values in zip(*self.columns.values(), strict=True)]
        return orjson.dumps({"snapshot": self.snapshot_id, "predictions": rows})


def model_port(spec: DataProduct, port_id: str) -> ModelPortSpec:
    """The product's model port ``port_id``; :class:`NotFound` when it has none of that id."""
    port = spec.output(port_id)
    if port is None or port.type != "model" or port.options is None:
        raise NotFound(f"{spec.ref} v{spec.major} has no model port '{port_id}'")
    options = port.options
    outputs = list(options.outputs) or ([options.target] if options.target else [])
    return ModelPortSpec(
        port.id,
        options.entrypoint,
        declared(spec, list(options.features)),
        declared(spec, outputs),
        options.max_batch,
        parse_duration(options.timeout).total_seconds(),
        port.description,
    )


def refusal(decision: Decision, port: ModelPortSpec) -> str | None:
    """Why an allowed ``decision`` still does not let its principal use ``port`` (None: it does):
    the artefacts were fitted on every row, so a grant that filters rows, or masks a property the
    port predicts, does not reach them."""
    if not decision.allowed:
        return decision.reason
    if decision.row_filter or decision.sees_no_rows:
        return "a model port serves artefacts fitted on every row, and your grant filters rows"
    masked = [f.name for f in port.outputs if f.name in decision.masked]
    if masked:
        return f"the port predicts '{masked[0]}', which is masked for you"
    return None


class ModelPorts:
    """Predictions of every model port of one data plane, scored by one pool of workers."""

    def __init__(self, plane: DataPlane, pool: WorkerPool | None = None) -> None:
        self.plane = plane
        self.pool = pool or WorkerPool()
        self._artefacts: dict[tuple[str, str], dict[str, Any]] = {}
        self._code: dict[tuple[str, str], Code] = {}
        self._ports: dict[tuple[int, str], tuple[DataProduct, ModelPortSpec]] = {}
        self._guard = threading.Lock()

    def port(self, spec: DataProduct, port_id: str) -> ModelPortSpec:
        """:func:`model_port`, worked out once per spec object and port."""
        key = (id(spec), port_id)
        found = self._ports.get(key)
        if found is not None and found[0] is spec:
            return found[1]
        port = model_port(spec, port_id)
        with self._guard:
            if len(self._ports) >= 1_000:
                self._ports.clear()
            self._ports[key] = (spec, port)  # the spec is held, so its id is not reused while cached
        return port

    def predict(self, principal: Principal, spec: DataProduct, port_id: str, payload: bytes) -> Prediction:
        """Score the rows of the JSON ``payload`` for ``principal``: :class:`AccessDenied` when
        refused (decided before the body is read), ``InvalidFeatures``/``BatchTooLarge`` for bad
        rows, ``ScoringFailed``/``ScoringTimeout`` when the port's code fails."""
        port = self.port(spec, port_id)
        read = self.plane.secure(principal, spec, port_id, Selector())
        self._refuse_rows_it_may_not_see(read, port)
        try:
            body = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            raise InvalidFeatures([(None, None, f"the body is not JSON ({exc})")]) from None
        features = columns(body, port.features, port.max_batch)
        rows = len(next(iter(features.values()))) if features else len(body["rows"])
        code = self.code(spec, port)
        artefacts = self.artefacts(read)
        worker = self.pool.worker(spec.key, port.id, code)
        answer = worker.score(read.snapshot.id, artefacts, features, port.timeout_s)
        try:
            scored = predictions(answer, port.outputs, rows)
        except BadPredictions as exc:
            raise ScoringFailed(str(exc), "shape") from None
        self.plane.record_access(read, statement=f"predict {port.id}", rows=rows)
        return Prediction(read.snapshot.id, scored, rows)

    def _refuse_rows_it_may_not_see(self, read: SecuredRead, port: ModelPortSpec) -> None:
        decision = read.decision
        reason = refusal(decision, port)
        if reason is None:
            return
        audit = self.plane.audit
        if audit is not None:
            audit.record(
                AuditEntry(
                    actor=read.principal.id,
                    action="read",
                    product=read.spec.key,
                    port=port.id,
                    snapshot=read.snapshot.id,
                    statement=f"predict {port.id}",
                    decision="deny",
                    reason=reason,
                    data={"source": decision.source} if decision.source else {},
                )
            )
        raise AccessDenied(f"{reason}; ask the owner for a grant of port '{port.id}' without it")

    def code(self, spec: DataProduct, port: ModelPortSpec) -> Code:
        """The port's scoring code from the product's published descriptor (read once per descriptor)."""
        descriptor_id = self.plane.descriptor_id(spec)
        if descriptor_id is None:
            raise NotFound(f"{spec.key} has no published descriptor")
        key = (descriptor_id, port.id)
        with self._guard:
            found = self._code.get(key)
        if found is not None:
            return found
        descriptor = self.plane.catalog.products.descriptor(descriptor_id)
        module = port.entrypoint.split(":", 1)[0]
        if descriptor is None or module not in descriptor.files:
            raise QuantaError(f"{spec.key}: the published descriptor holds no scoring module {module}; publish again")
        files = {path: content.decode("utf-8") for path, content in descriptor.files.items() if path.endswith(".py")}
        types = {f.name: f.logical_type for f in port.features}
        identity = json.dumps({"files": files, "entrypoint": port.entrypoint, "types": types}, sort_keys=True)
        code = Code(files, port.entrypoint, types, hashlib.sha256(identity.encode()).hexdigest())
        with self._guard:
            if len(self._code) >= 1_000:
                self._code.clear()
            self._code[key] = code
        return code

    def artefacts(self, read: SecuredRead) -> dict[str, Any]:
        """The snapshot's artefacts, from its manifest through the plane (read once per snapshot)."""
        key = (read.spec.key, read.snapshot.id)
        with self._guard:
            found = self._artefacts.get(key)
        if found is None:
            found = dict(self.plane.manifest(read.spec, read.snapshot).get("artefacts") or {})
            with self._guard:
                if len(self._artefacts) >= 1_000:
                    self._artefacts.clear()
                self._artefacts[key] = found
        return found

    def close(self) -> None:
        self.pool.close()
