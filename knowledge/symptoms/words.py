"""The words of a description: split, stripped, stemmed, widened by synonyms, and the
codes and clauses that matter in them."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Container

from bm25s.stopwords import STOPWORDS_EN_PLUS

from knowledge.codes import find_codes, normalize_code
from knowledge.errors import InputError
from knowledge.lookup import lookup_error
from knowledge.models import (
    Entry,
)

# Stop words, minus the few that carry meaning in this domain ("not applicable",
# "installs again", "cache too small", "timed out", "sup down").
KEPT_WORDS = {"no", "not", "again", "too", "out", "down", "after", "off", "all"}
STOP_WORDS = frozenset(STOPWORDS_EN_PLUS) - KEPT_WORDS

# Words that say something is wrong but not where. They still rank (BM25 gives them
# little weight) but a text made only of them is inconclusive.
# fmt: off
GENERIC_WORDS = frozenset("""
    sccm configmgr mecm memcm sms cm issue issues problem problems error errors help broken work
    working works worked fail fails failed failing failure wrong bad weird strange fix please
    pls plz hi hello hey anyone thanks thx urgent asap everything update updates updating
    software windows microsoft pc pcs computer computers machine machines device devices server
    servers today yesterday since still anymore happen happening thing stuff guys someone know
    idea ideas
""".split())  # noqa: SIM905 (a word list reads better as text)
# fmt: on
GENERIC_PHRASES = ("windows update", "software update")

_PRODUCT_NAMES = re.compile(
    r"\b(?:(?:microsoft\s+)?(?:system\s+center\s+|endpoint\s+)?configuration\s+manager"
    r"|microsoft\s+endpoint\s+manager|system\s+center)\b"
)
_NUMBERED_NAME = re.compile(r"\b(sup|dp|mp|wsus|server|srv)(\d+)\b")
_DECIMAL_CODE = re.compile(r"(?<![\w.-])-?\d{9,10}(?![\w.])")
_CODE_LIKE = re.compile(r"^(0x[0-9a-f]+|[0-9a-f]{8}|-?\d{6,})$")
_WORD = re.compile(r"[a-z0-9]+")
CMTRACE_MARKUP = re.compile(r"<!\[LOG\[|\]LOG\]!><time=[^>]*>", re.IGNORECASE)


class SynonymGroups:
    """Words and phrases that mean the same, matched on stems, replaced by one token.

    Replacing (rather than adding the other spellings) keeps a concept's weight the
    same whether it is typed as one word ("dp") or three ("distribution point").
    """

    def __init__(self, synonyms: dict[str, list[str]], stem):
        groups: list[list[tuple[str, ...]]] = []
        self.words: set[str] = set()
        for key, values in synonyms.items():
            phrases: list[tuple[str, ...]] = []
            for phrase in (key, *values):
                words = words_of(phrase)
                self.words.update(words)
                phrases.append(tuple(stem(words)))
            for group in [g for g in groups if set(g) & set(phrases)]:
                groups.remove(group)
                phrases = group + phrases
            groups.append(phrases)
        self._canonical: dict[tuple[str, ...], str] = {}
        for group in groups:
            token = "_".join(group[0])
            for phrase in group:
                self._canonical.setdefault(phrase, token)
        self._longest = max((len(p) for p in self._canonical), default=1)

    def replace(self, stems: list[str]) -> list[str]:
        """The stems with every synonym phrase (longest first) replaced by its group token."""
        out: list[str] = []
        start = 0
        while start < len(stems):
            for length in range(min(self._longest, len(stems) - start), 0, -1):
                token = self._canonical.get(tuple(stems[start : start + length]))
                if token is not None:
                    out.append(token)
                    start += length
                    break
            else:
                out.append(stems[start])
                start += 1
        return out


def codes_in(text: str, known: Container[str] = ()) -> list[str]:
    """The error codes in the text; a lone code-like token counts in any spelling.

    find_codes is strict (it reads logs full of numbers), so an unsigned decimal such as
    2278557330 needs an "error" word before it; typed alone, it is surely a code. In a
    sentence, a 9-10 digit decimal (signed or unsigned) counts when it spells a code we
    know, so "we get 2149859344 on clients" is 0x80244010 while a ticket number is not.
    """
    codes = find_codes(text)
    token = text.strip()
    if not codes and _CODE_LIKE.match(token.lower()):
        with contextlib.suppress(InputError):
            codes = [lookup_error(token).code]
    for number in _DECIMAL_CODE.findall(text):
        code = normalize_code(number)
        if code is not None and code in known and code not in codes:
            codes.append(code)
    return codes


_CLAUSE_BREAK = re.compile(
    r"(?<=[?!.])\s+|\.{3,}|\u2026|\s[-\u2013\u2014]+\s|;|\n+"
    r"|,\s*(?=(?:also|and also|plus|btw|though|even though|while)\b)",
    re.IGNORECASE,
)
_QUESTION = re.compile(r"\s*(?:why|how come|how do|how can|how to)\b", re.IGNORECASE)


def main_clause(text: str) -> tuple[str, str]:
    """(the question an admin asks, the rest) when the text asks one among other clauses.

    The first clause that asks (starts with "why" or "how do", or ends with "?") is what the
    admin wants answered; the clauses around it add context. A text without a question, or
    of one clause, is all main clause.
    """
    clauses = [c for c in _CLAUSE_BREAK.split(text) if c and c.strip()]
    if len(clauses) < 2:
        return text, ""
    for index, clause in enumerate(clauses):
        if clause.rstrip().endswith("?") or _QUESTION.match(clause):
            return clause, " ".join(clauses[:index] + clauses[index + 1 :])
    return text, ""


def words_of(text: str) -> list[str]:
    """Lower-case words, without the code-like tokens that find_codes reads instead.

    Apostrophes go first, so "can't" and "cant" are one word (symptoms.yaml folds it into
    "not").
    """
    text = text.lower().replace("'", "").replace("\u2019", "")
    # The product's long names say no more than "sccm", but their words ("configuration",
    # "manager", "center") would otherwise match causes that speak of configuring things.
    text = _PRODUCT_NAMES.sub(" sccm ", text)
    # Server names with a number ("sup1", "dp02") are the role they name.
    text = _NUMBERED_NAME.sub(r"\1 \2", text)
    return [w for w in _WORD.findall(text) if not _CODE_LIKE.match(w)]


def unparsed_lines(sample: str, entries: list[Entry]) -> str:
    """The lines of a paste that no parsed record starts on (a description around it)."""
    starts = {entry.line for entry in entries}
    return " ".join(
        line
        for number, line in enumerate(sample.splitlines(), 1)
        if number not in starts and "]LOG]!>" not in line
    )


def lower_first(title: str) -> str:
    """'The client ...' -> 'the client ...', but 'ConfigMgr ...' and 'WSUS ...' stay."""
    first = title.split(" ", 1)[0]
    if first[:1].isupper() and first[1:] == first[1:].lower():
        return title[0].lower() + title[1:]
    return title


def first_sentence(text: str) -> str:
    match = re.match(r"(.+?[.!?])(\s|$)", text.strip(), re.DOTALL)
    return " ".join((match.group(1) if match else text).split())
