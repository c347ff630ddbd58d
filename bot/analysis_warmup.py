"""Imported once by the analysis fork server: load the knowledge base and compile the
signatures there, so every analysis child forked from it starts with them ready."""

from knowledge.api import warm_up

warm_up()
