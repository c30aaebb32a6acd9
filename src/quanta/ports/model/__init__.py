"""The model port: ``POST …/models/{port}:predict`` scores feature rows with the current snapshot's
artefacts in a warm worker process that runs the product's published scoring code."""

from quanta.ports.model.fields import BadPredictions, BatchTooLarge, Field, InvalidFeatures
from quanta.ports.model.pool import ScoringFailed, ScoringTimeout, WorkerPool
from quanta.ports.model.port import ModelPorts, ModelPortSpec, Prediction, model_port

__all__ = [
    "BadPredictions",
    "BatchTooLarge",
    "Field",
    "InvalidFeatures",
    "ModelPortSpec",
    "ModelPorts",
    "Prediction",
    "ScoringFailed",
    "ScoringTimeout",
    "WorkerPool",
    "model_port",
]
