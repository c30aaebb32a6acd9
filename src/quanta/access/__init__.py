"""Access: who is asking (principals) and THE decision point every read asks (:func:`decide`)."""

from quanta.access.decide import Decision, decide
from quanta.access.principal import LOCAL_OWNER, Principal

__all__ = ["LOCAL_OWNER", "Decision", "Principal", "decide"]
