"""Imported once by the analysis fork server: load the knowledge base and compile the
signatures there, so every analysis child forked from it starts with them ready."""

from knowledge.diagnosis.engine import _signature_set
from knowledge.kb import kb

_signature_set(kb())
