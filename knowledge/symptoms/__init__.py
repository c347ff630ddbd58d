"""Symptom diagnosis: text an admin typed -> the likely failing stage and cause.

Three kinds of evidence are weighed, strongest first:

1. error codes in the text (any spelling `knowledge.codes.find_codes` knows), looked up
   in the error table: a code with a `cause` decides the cause, a code with only a
   stage narrows the choice to that stage's causes, an unknown code counts through
   its family (0x8019xxxx = an HTTP status seen by BITS, ...);
2. pasted log lines (CMTrace records, WindowsUpdate.log or CBS.log rows), parsed by
   `knowledge.formats` and matched against the knowledge base's signatures;
3. the words, ranked with BM25 (the `bm25s` library) against the phrasings of
   symptoms.yaml plus each cause's title and summary. Words are lower-cased, split
   on punctuation, stripped of English stop words, stemmed (Snowball, PyStemmer),
   widened with the synonyms of symptoms.yaml, and misspelled words are corrected
   against the index vocabulary with difflib before ranking.

Nothing here guesses: without a code, a signature or a confident word match the
answer is `inconclusive` and asks for the logs zip.

The package: `words` (splitting and stemming a description, the codes and clauses in it),
`evidence` (what the text says, gathered before choosing), `index` (the BM25 index and the
choice of stage and cause), `answer` (the Diagnosis written from that choice).
"""

from __future__ import annotations

from functools import cache

from knowledge.errors import InputError
from knowledge.kb import kb
from knowledge.models import Diagnosis
from knowledge.symptoms.evidence import CONFIDENCE_THRESHOLD, EXAMPLE, PASTE_CHARS
from knowledge.symptoms.index import SymptomIndex
from knowledge.symptoms.words import codes_in, main_clause

__all__ = [
    "CONFIDENCE_THRESHOLD",
    "SymptomIndex",
    "codes_in",
    "diagnose_text",
    "main_clause",
    "symptom_index",
]


def _check_text(text: str) -> str:
    """The text to diagnose, or InputError for input nobody can diagnose."""
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"describe the symptom, {EXAMPLE}")
    head = text[:PASTE_CHARS]
    control = sum(1 for ch in head if (ord(ch) < 32 and ch not in "\t\r\n") or ch == "\ufffd")
    if "\x00" in head or control > max(3, len(head) // 50):
        raise InputError(
            "that looks like binary data, not a description: describe the symptom in words "
            f"({EXAMPLE}), or give the file to `sccm diagnose PATH`"
        )
    return head


@cache
def symptom_index() -> SymptomIndex:
    """The index over the bundled knowledge base, built on first use."""
    return SymptomIndex(kb())


def diagnose_text(text: str) -> Diagnosis:
    """`sccm diagnose --symptom`: the likely stage and cause of a typed description."""
    return symptom_index().diagnose(_check_text(text))
