"""Applies the knowledge base's signatures to log entries.

A signature belongs to one or more catalogue logs. Which log an entry comes from is
decided once per file (by its name, misspellings and rotation accepted; by its format
for WindowsUpdate.log and CBS.log pasted under another name) and, for files with an
unknown name, per component tag. Matching is `re.search`, case-insensitive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .kb import KnowledgeBase, LogInfo, Signature

# Files whose name says nothing are still recognisable by their format.
_LOG_BY_FORMAT = {"wulog": "WindowsUpdate.log", "wulog-etw": "WindowsUpdate.log", "cbs": "CBS.log"}


@dataclass(frozen=True, slots=True)
class CompiledSignature:
    spec: Signature
    regex: re.Pattern[str]
    names_update: bool


class SignatureSet:
    """The signatures of a knowledge base, indexed by the log they apply to."""

    def __init__(self, knowledge: KnowledgeBase):
        self.kb = knowledge
        self._by_log: dict[str, list[CompiledSignature]] = {}
        anywhere: list[CompiledSignature] = []
        for spec in knowledge.signatures:
            regex = re.compile(spec.pattern, re.IGNORECASE)
            compiled = CompiledSignature(spec, regex, "update" in regex.groupindex)
            for log in spec.logs:
                if log == "*":
                    anywhere.append(compiled)
                    continue
                info = knowledge.log_by_name(log)
                self._by_log.setdefault(info.name, []).append(compiled)
        self._anywhere = anywhere
        self._components: dict[str, LogInfo] = {}
        for info in knowledge.logs:
            for component in info.components:
                self._components.setdefault(component.lower(), info)
        self._for_component: dict[str, tuple[str | None, list[CompiledSignature]]] = {}

    def identify(self, file_name: str, fmt: str) -> LogInfo | None:
        """The catalogue log a file is, from its name, else from its format."""
        info = self.kb.log_by_name(file_name)
        if info is None and fmt in _LOG_BY_FORMAT:
            info = self.kb.log_by_name(_LOG_BY_FORMAT[fmt])
        return info

    def for_log(self, info: LogInfo | None) -> list[CompiledSignature]:
        if info is None:
            return self._anywhere
        return self._by_log.get(info.name, []) + self._anywhere

    def for_component(self, component: str) -> tuple[str | None, list[CompiledSignature]]:
        """(log name, signatures) for an entry of a file whose name we don't know."""
        cached = self._for_component.get(component)
        if cached is None:
            info = self._components.get(component.lower())
            cached = (info.name if info else None, self.for_log(info))
            self._for_component[component] = cached
        return cached
