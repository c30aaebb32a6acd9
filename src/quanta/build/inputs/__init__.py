"""Input connectors: one per input ``type``; adding a type touches no build code."""

from quanta.build.inputs.base import ConnectorRegistry, InputConnector, InputContext, ResolvedInput

__all__ = ["ConnectorRegistry", "InputConnector", "InputContext", "ResolvedInput"]
