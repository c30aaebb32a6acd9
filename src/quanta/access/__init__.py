"""Access: who is asking (principals) and THE decision point every read asks (:func:`decide`)."""

from quanta.access.decide import CatalogGrant, Decision, decide
from quanta.access.principal import LOCAL_OWNER, Principal

__all__ = ["LOCAL_OWNER", "CatalogGrant", "Decision", "Principal", "decide"]
