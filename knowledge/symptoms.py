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
"""

from __future__ import annotations

import contextlib
import difflib
import io
import math
import re
from collections import Counter
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

from knowledge.advice import collect_advice
from knowledge.codes import find_codes, normalize_code
from knowledge.diagnosis.signatures import SignatureSet
from knowledge.errors import InputError
from knowledge.formats import detect_reading, parse_entries
from knowledge.kb import KnowledgeBase, Signature, StepRef, kb
from knowledge.lookup import lookup_error
from knowledge.models import (
    STAGE_IDS,
    Alternative,
    CodeRef,
    Diagnosis,
    Entry,
    LedgerRow,
    NextStep,
)

# Words are read from the start of the text only: a description is short, and a long
# paste is a log, whose codes and recognised lines are still read from all of it.
WORD_CHARS = 4000
# Lines of a description matched against every log's signatures (a quoted log message).
QUOTED_LINES = 40
QUOTED_LINE_CHARS = 2000
# A paste longer than this is cut before parsing; it is a description, not an upload.
PASTE_CHARS = 200_000
# Below this confidence the answer is inconclusive (tuned on tests/symptom_eval.yaml).
CONFIDENCE_THRESHOLD = 0.35
MAX_ALTERNATIVES = 3
# Words that only say "something is wrong" rank at this fraction of their BM25 weight.
WEAK_WEIGHT = 0.25
# Words of a side clause rank at this fraction: in "why aren't updates installing in the
# maintenance window? some servers are pending reboot" the question is about the window.
SIDE_WEIGHT = 0.4

EXAMPLE = 'e.g. "updates stuck at 0% downloading" or a code such as 0x87D00692'

# Stop words, minus the few that carry meaning in this domain ("not applicable",
# "installs again", "cache too small", "timed out", "sup down").
_KEPT_WORDS = {"no", "not", "again", "too", "out", "down", "after", "off", "all"}
_STOP_WORDS = frozenset(STOPWORDS_EN_PLUS) - _KEPT_WORDS

# Words that say something is wrong but not where. They still rank (BM25 gives them
# little weight) but a text made only of them is inconclusive.
# fmt: off
_GENERIC_WORDS = frozenset("""
    sccm configmgr mecm memcm sms cm issue issues problem problems error errors help broken work
    working works worked fail fails failed failing failure wrong bad weird strange fix please
    pls plz hi hello hey anyone thanks thx urgent asap everything update updates updating
    software windows microsoft pc pcs computer computers machine machines device devices server
    servers today yesterday since still anymore happen happening thing stuff guys someone know
    idea ideas
""".split())  # noqa: SIM905 (a word list reads better as text)
# fmt: on
_GENERIC_PHRASES = ("windows update", "software update")

_PRODUCT_NAMES = re.compile(
    r"\b(?:(?:microsoft\s+)?(?:system\s+center\s+|endpoint\s+)?configuration\s+manager"
    r"|microsoft\s+endpoint\s+manager|system\s+center)\b"
)
_NUMBERED_NAME = re.compile(r"\b(sup|dp|mp|wsus|server|srv)(\d+)\b")
_DECIMAL_CODE = re.compile(r"(?<![\w.-])-?\d{9,10}(?![\w.])")
_CODE_LIKE = re.compile(r"^(0x[0-9a-f]+|[0-9a-f]{8}|-?\d{6,})$")
_WORD = re.compile(r"[a-z0-9]+")
_CMTRACE_MARKUP = re.compile(r"<!\[LOG\[|\]LOG\]!><time=[^>]*>", re.IGNORECASE)


@dataclass
class _Evidence:
    """What the text says for each cause and stage, before the choice is made."""

    text_scores: dict[str, float] = field(default_factory=dict)  # cause -> BM25
    informative: set[str] = field(default_factory=set)  # query words the index knows
    reachable: float = 1.0  # BM25 score of a document that matched every query word
    cause_votes: dict[str, float] = field(default_factory=dict)  # from codes / lines
    stage_votes: dict[str, float] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)  # stage -> code/line that voted
    codes: list[CodeRef] = field(default_factory=list)
    code_ids: list[str] = field(default_factory=list)
    ok_stages: dict[str, str] = field(default_factory=dict)  # stage -> success line title


class SymptomIndex:
    """BM25 over symptom phrasings, with the code table and signatures beside it."""

    def __init__(self, knowledge: KnowledgeBase):
        self.kb = knowledge
        self._stemmer = Stemmer.Stemmer("english")
        self._synonyms = _SynonymGroups(knowledge.synonyms, self._stem_words)
        self._signatures = SignatureSet(knowledge)
        self._corrections: dict[str, str | None] = {}

        documents: list[list[str]] = []
        self._doc_cause: list[str] = []
        raw_vocabulary: set[str] = set(self._synonyms.words)
        for cause_id, text in self._documents():
            words = _words(text)
            raw_vocabulary.update(words)
            documents.append(self._analyse(words))
            self._doc_cause.append(cause_id)
        self._vocabulary = sorted(
            w for w in raw_vocabulary if w.isalpha() and len(w) > 3 and w not in _STOP_WORDS
        )
        self._stems = {stem for doc in documents for stem in doc}
        self._uninformative = set(self._analyse(sorted(_GENERIC_WORDS | _KEPT_WORDS)))
        for phrase in _GENERIC_PHRASES:
            self._uninformative.update(self._analyse(_words(phrase)))
        self._bm25 = bm25s.BM25()
        self._bm25.index(documents, show_progress=False)
        # The same IDF as bm25s's default (Lucene) variant, for the confidence.
        frequency = Counter(stem for terms in documents for stem in set(terms))
        count = len(documents)
        self._idf = {
            stem: math.log(1 + (count - df + 0.5) / (df + 0.5)) for stem, df in frequency.items()
        }

    def _documents(self) -> Iterable[tuple[str, str]]:
        for cause in self.kb.causes.values():
            yield cause.id, f"{cause.title}. {cause.summary}"
        for symptom in self.kb.symptoms:
            for phrasing in symptom.phrasings:
                yield symptom.cause, phrasing

    # --- analysis -------------------------------------------------------------------

    def _stem_words(self, words: Sequence[str]) -> list[str]:
        return self._stemmer.stemWords(list(words))

    def _analyse(self, words: list[str]) -> list[str]:
        """Stop words out, stems in, synonyms folded together."""
        return self._synonyms.replace(self._stem_words([w for w in words if w not in _STOP_WORDS]))

    def _correct(self, word: str) -> str:
        """The vocabulary word a misspelled word most likely meant (or the word itself)."""
        if (
            len(word) < 4
            or not word.isalpha()
            or word in _STOP_WORDS
            or word in _GENERIC_WORDS
            or word in self._synonyms.words
        ):
            return word
        if self._stem_words([word])[0] in self._stems:
            return word
        if word not in self._corrections:
            cutoff = 0.8 if len(word) >= 6 else 0.75
            found = difflib.get_close_matches(word, self._vocabulary, n=1, cutoff=cutoff)
            self._corrections[word] = found[0] if found else None
        return self._corrections[word] or word

    def query_terms(self, text: str) -> tuple[list[str], set[str]]:
        """(terms to rank, the terms that came from a corrected spelling)."""
        words = _words(text)
        corrected = [self._correct(w) for w in words]
        guessed = [fixed for word, fixed in zip(words, corrected, strict=True) if fixed != word]
        return self._analyse(corrected), set(self._analyse(guessed))

    # --- evidence -------------------------------------------------------------------

    def _rank_words(self, text: str, evidence: _Evidence) -> None:
        main, side = _main_clause(text)
        terms, guessed = self.query_terms(main)
        strong = [t for t in terms if t not in self._uninformative]
        side_strong: list[str] = []
        if side and strong:
            side_terms, side_guessed = self.query_terms(side)
            side_strong = [
                t for t in side_terms if t not in self._uninformative and t not in strong
            ]
            terms += side_terms
            guessed |= side_guessed
        elif side:  # the question says nothing specific: every clause counts alike
            terms, guessed = self.query_terms(text)
            strong = [t for t in terms if t not in self._uninformative]
        weak = [t for t in terms if t in self._uninformative]
        informative = {t for t in terms if t in self._stems and t not in self._uninformative}
        # One corrected spelling alone ("around" -> "round") is too thin to answer on.
        if informative - guessed or len(informative) > 1:
            evidence.informative = informative
        evidence.reachable = self._reachable_score(strong, weak)
        if not terms:
            return
        scores = (
            self._scores(strong)
            + SIDE_WEIGHT * self._scores(side_strong)
            + WEAK_WEIGHT * self._scores(weak)
        )
        for index, score in enumerate(scores):
            if score <= 0:
                continue
            cause = self._doc_cause[index]
            # A cause scores as its best-matching document (a phrasing or its title).
            evidence.text_scores[cause] = max(evidence.text_scores.get(cause, 0.0), float(score))

    def _reachable_score(self, strong: list[str], weak: list[str]) -> float:
        """About the score of an average-length document holding every query word once.

        Lucene's BM25 (bm25s's default) gives each word of such a document IDF / (1 + k1).
        A word the index has never seen counts as the rarest word, so off-topic words
        lower the share of the description that the best match explains.
        """
        rarest = max(self._idf.values())
        # A long description is not a worse match: count its three heaviest words.
        heaviest = sorted((self._idf.get(t, rarest) for t in set(strong)), reverse=True)[:3]
        total = sum(heaviest) + WEAK_WEIGHT * sum(self._idf.get(t, 0.0) for t in set(weak))
        return max(total / (1 + self._bm25.k1), 1e-9)

    def _scores(self, terms: list[str]) -> np.ndarray:
        if not terms:
            return np.zeros(len(self._doc_cause))
        return self._bm25.get_scores(terms)

    def _weigh_codes(self, text: str, evidence: _Evidence) -> None:
        for code in _codes_in(text[:PASTE_CHARS], self.kb.codes):
            evidence.code_ids.append(code)
            known = self.kb.codes.get(code)
            if known is None:
                # Not in the table: its family (0x8019xxxx = HTTP status seen by BITS, ...)
                # may still name a stage, with less weight than a listed code.
                family = lookup_error(code)
                evidence.codes.append(
                    CodeRef(code=code, meaning=family.meaning, stage=family.stage)
                )
                if family.stage:
                    self._vote_stage(evidence, family.stage, code, f"the family of {code}", 0.6)
                continue
            evidence.codes.append(
                CodeRef(code=code, symbol=known.symbol, meaning=known.meaning, stage=known.stage)
            )
            if known.routine or known.stage is None:
                continue  # seen on healthy clients, or belongs to no single stage
            cause = self.kb.causes.get(known.cause or "")
            if cause is not None and cause.stage == known.stage:
                self._vote(evidence, known.stage, cause.id, 2.0, f"the code {code}")
            else:
                self._vote_stage(evidence, known.stage, code, f"the code {code}")

    def _vote_stage(
        self, evidence: _Evidence, stage: str, code: str, why: str, weight: float = 1.0
    ) -> None:
        """A code that names only a stage: that stage's causes which list the code gain most."""
        evidence.stage_votes[stage] = evidence.stage_votes.get(stage, 0.0) + weight
        evidence.reasons.setdefault(stage, why)
        for cause in self.kb.causes.values():
            if cause.stage == stage and code in cause.codes:
                evidence.cause_votes[cause.id] = evidence.cause_votes.get(cause.id, 0.0) + 0.5

    def _vote(self, evidence: _Evidence, stage: str, cause: str, weight: float, why: str) -> None:
        evidence.cause_votes[cause] = evidence.cause_votes.get(cause, 0.0) + weight
        evidence.stage_votes[stage] = evidence.stage_votes.get(stage, 0.0) + weight
        evidence.reasons.setdefault(stage, why)

    def _read_pasted_lines(self, text: str, evidence: _Evidence) -> str:
        """Match pasted log lines against the signatures; return the text to rank as words.

        A line that a success signature explains is left out of the words: it says
        what worked, not what failed.
        """
        sample = text[:PASTE_CHARS]
        fmt, cleaning = detect_reading(sample, "pasted.log")
        if fmt == "text":
            self._read_quoted_lines(sample, evidence)
            return text
        entries = list(parse_entries(fmt, io.StringIO(sample), "pasted.log", cleaning))
        unexplained: list[str] = []
        for entry in entries:
            if self._match_line(entry, fmt, evidence) != "ok":
                unexplained.append(entry.message)
        if not entries:
            return text
        # Rank the messages, not the record markup (component names, thread ids, times).
        around = _CMTRACE_MARKUP.sub(" ", _unparsed_lines(sample, entries))
        return " ".join([around, *unexplained])

    def _read_quoted_lines(self, text: str, evidence: _Evidence) -> None:
        """A log message typed or quoted in prose ("WUAHandler says `Scan failed with error =
        0x80244022`") votes as that line's failure signature would, whatever log it names."""
        matcher = self._signatures.for_any_log()
        for line in text.splitlines()[:QUOTED_LINES]:
            for signature, _update in matcher.matches(line[:QUOTED_LINE_CHARS]):
                spec = signature.spec
                if spec.outcome != "failed":
                    continue
                self._vote_failure(evidence, spec, f"the quoted log line ({spec.title or spec.id})")

    def _match_line(self, entry: Entry, fmt: str, evidence: _Evidence) -> str | None:
        """Vote for what the line's signatures say; the line's outcome (failed wins)."""
        outcome = None
        for signature, _update in self._signatures_for(entry, fmt).matches(entry.message):
            spec = signature.spec
            if spec.outcome == "ok":
                evidence.ok_stages.setdefault(spec.stage, spec.title or spec.id)
                outcome = outcome or "ok"
            elif spec.outcome == "failed":
                outcome = "failed"
                self._vote_failure(evidence, spec, f"the pasted line ({spec.title or spec.id})")
        return outcome

    def _vote_failure(self, evidence: _Evidence, spec: Signature, why: str) -> None:
        """A failure signature's vote: for its cause (doubled: a log line is strong
        evidence), or for its stage alone when it names no cause."""
        if spec.cause:
            self._vote(evidence, spec.stage, spec.cause, 2.0 * spec.strength, why)
        else:
            evidence.stage_votes[spec.stage] = (
                evidence.stage_votes.get(spec.stage, 0.0) + spec.strength
            )
            evidence.reasons.setdefault(spec.stage, why)

    def _signatures_for(self, entry: Entry, fmt: str):
        info = self._signatures.identify("", fmt)
        if info is not None:
            return self._signatures.for_log(info)
        return self._signatures.for_component(entry.component)[1]

    # --- the answer -----------------------------------------------------------------

    def diagnose(self, text: str) -> Diagnosis:
        evidence = _Evidence()
        self._weigh_codes(text, evidence)
        words = self._read_pasted_lines(text, evidence)
        self._rank_words(words[:WORD_CHARS], evidence)
        ranked = self._rank_causes(evidence)
        if not ranked:
            return self._inconclusive(evidence)
        (best, best_score), *others = ranked
        confidence = self._confidence(evidence, best, best_score, others)
        if confidence < CONFIDENCE_THRESHOLD:
            return self._inconclusive(evidence)
        stage = self.kb.causes[best].stage
        return self._failure(
            evidence, stage, self._supported_cause(evidence, best), confidence, best_score, others
        )

    def _supported_cause(self, evidence: _Evidence, best: str) -> str | None:
        """The best cause if anything points at it rather than only at its stage.

        A code that names only a stage ranks all that stage's causes alike; then the
        answer is the stage's generic "<stage>.failed" cause, or no cause at all.
        """
        if evidence.cause_votes.get(best) or (
            evidence.informative and evidence.text_scores.get(best)
        ):
            return best
        generic = f"{self.kb.causes[best].stage}.failed"
        return generic if generic in self.kb.causes else None

    def _rank_causes(self, evidence: _Evidence) -> list[tuple[str, float]]:
        """Causes by combined score: codes and lines first, words to choose among them."""
        if not evidence.informative and not evidence.stage_votes:
            return []
        top_text = max(evidence.text_scores.values(), default=0.0)
        combined: dict[str, float] = {}
        for cause in self.kb.causes.values():
            words = evidence.text_scores.get(cause.id, 0.0) / top_text if top_text else 0.0
            if not evidence.informative:
                words = 0.0
            score = (
                words
                + evidence.cause_votes.get(cause.id, 0.0)
                + evidence.stage_votes.get(cause.stage, 0.0)
            )
            if score > 0:
                # Ties (two codes of equal weight) go to the earlier stage of the pipeline.
                combined[cause.id] = score - STAGE_IDS.index(cause.stage) * 1e-6
        return sorted(combined.items(), key=lambda item: item[1], reverse=True)

    def _confidence(
        self,
        evidence: _Evidence,
        best: str,
        best_score: float,
        others: list[tuple[str, float]],
    ) -> float:
        stage = self.kb.causes[best].stage
        rival = next((s for c, s in others if self.kb.causes[c].stage != stage), 0.0)
        margin = 1.0 - rival / best_score if best_score > 0 else 0.0
        if evidence.cause_votes.get(best, 0.0) >= 1.0:
            return round(min(0.95, 0.8 + 0.15 * margin), 2)
        if evidence.stage_votes.get(stage):
            return round(min(0.85, 0.6 + 0.25 * margin), 2)
        # Words only: how much of the description the best match explains and how far
        # it is ahead of other stages.
        explained = min(1.0, evidence.text_scores.get(best, 0.0) / evidence.reachable)
        return round(min(0.8, 0.1 + 0.45 * explained + 0.3 * margin), 2)

    def _failure(
        self,
        evidence: _Evidence,
        stage_id: str,
        cause_id: str | None,
        confidence: float,
        best_score: float,
        others: list[tuple[str, float]],
    ) -> Diagnosis:
        stage = self.kb.stages[stage_id]
        why = evidence.reasons.get(stage_id)
        lead = f"{why[0].upper()}{why[1:]}" if why else "The description"
        lead += f" points to the {stage.title.lower()} stage"
        if cause_id is None:
            cause = None
            summary = f"{lead}; the text does not say which cause. " + _first_sentence(stage.what)
            procedure = self.kb.procedures[stage.procedure]
            refs = [(procedure.id, n) for n in range(1, min(3, len(procedure.steps)) + 1)]
        else:
            cause = self.kb.causes[cause_id]
            if cause_id.endswith(".failed"):  # the stage's "cause unclear" entry
                summary = f"{lead}; the text does not say why. "
            elif why and cause_id not in evidence.cause_votes:
                # The code or line gave only the stage; the words chose the cause.
                summary = f"{lead}; the wording suggests {_lower_first(cause.title)}. "
            else:
                summary = f"{lead}: {_lower_first(cause.title)}. "
            summary += _first_sentence(cause.summary)
            refs = [(ref.procedure, ref.step) for ref in cause.next]
        others = [(c, s) for c, s in others if c != cause_id]
        return Diagnosis(
            verdict="failure",
            stage=stage_id,
            stage_title=stage.title,
            cause=cause_id,
            cause_title=cause.title if cause else None,
            confidence=confidence,
            summary=summary,
            next_steps=[self._step(procedure, step) for procedure, step in refs],
            error_codes=evidence.codes,
            ledger=self._ledger(evidence, stage_id),
            alternatives=self._alternatives(
                evidence, cause_id, stage_id, confidence, best_score, others
            ),
            missing_logs=self._missing_logs(stage_id, cause_id, evidence.code_ids),
            how_to_collect=self._how_to_collect(stage_id, cause_id, evidence.code_ids),
            evidence=[],
            source="symptom",
        )

    def _inconclusive(self, evidence: _Evidence) -> Diagnosis:
        if evidence.ok_stages:
            shown = ", ".join(self.kb.stages[s].title.lower() for s in evidence.ok_stages)
            opening = (
                f"The pasted lines show {shown} working, and nothing in the text names a failure."
            )
        elif evidence.codes:
            opening = (
                f"{', '.join(evidence.code_ids)} does not point to a failing stage "
                "(it is routine or belongs to no single stage)."
            )
        else:
            opening = "The description does not match a known software-update failure."
        return Diagnosis(
            verdict="inconclusive",
            summary=(
                f"{opening} Upload the zip that `sccm script collect` makes "
                "(C:\\Windows\\CCM\\Logs with WindowsUpdate.log and CBS.log) to find the "
                "failing stage."
            ),
            error_codes=evidence.codes,
            ledger=self._ledger(evidence, None),
            missing_logs=self._missing_logs(None, None, evidence.code_ids),
            how_to_collect=self._how_to_collect(None, None, evidence.code_ids),
            evidence=[],
            source="symptom",
        )

    def _step(self, procedure: str, step: int) -> NextStep:
        text, source = self.kb.step_text(StepRef(procedure=procedure, step=step))
        return NextStep(text=text, source=source, procedure=procedure, step=step)

    def _ledger(self, evidence: _Evidence, failed: str | None) -> list[LedgerRow]:
        rows = []
        for stage in STAGE_IDS:
            if stage == failed:
                rows.append(
                    LedgerRow(
                        stage=stage,
                        status="failed",
                        title=self.kb.stage_title(stage),
                        note="likely, from the description; the logs would confirm it",
                    )
                )
            elif stage in evidence.ok_stages:
                rows.append(
                    LedgerRow(
                        stage=stage,
                        status="ok",
                        title=self.kb.stage_title(stage),
                        note=f"the pasted line shows it: {evidence.ok_stages[stage]}",
                    )
                )
            else:
                rows.append(
                    LedgerRow(stage=stage, status="no_evidence", title=self.kb.stage_title(stage))
                )
        return rows

    def _alternatives(
        self,
        evidence: _Evidence,
        chosen: str | None,
        stage: str,
        confidence: float,
        best_score: float,
        others: list[tuple[str, float]],
    ) -> list[Alternative]:
        """The next best causes (one per other stage, one more of the chosen stage)."""
        alternatives: list[Alternative] = []
        seen_stages: set[str] = set()
        reason = evidence.reasons.get(stage)
        for cause_id, score in others:
            cause = self.kb.causes[cause_id]
            has_words = bool(evidence.informative and evidence.text_scores.get(cause_id))
            if cause.stage in seen_stages or not (has_words or evidence.cause_votes.get(cause_id)):
                continue  # one per stage, and only causes something in the text points at
            seen_stages.add(cause.stage)
            if reason and not evidence.stage_votes.get(cause.stage):
                why_not = f"{reason} points to {self.kb.stage_title(stage)} instead"
            elif (
                reason
                and chosen
                and evidence.cause_votes.get(chosen, 0.0) > evidence.cause_votes.get(cause_id, 0.0)
            ):
                why_not = f"{reason} names {_lower_first(self.kb.causes[chosen].title)}"
            elif cause.stage == stage:
                why_not = "same stage, ranked lower: fewer words in common with the description"
            else:
                why_not = "ranked lower: fewer words in common with the description"
            share = max(0.0, min(1.0, score / best_score)) if best_score > 0 else 0.0
            alternatives.append(
                Alternative(
                    stage=cause.stage,
                    cause=cause.id,
                    confidence=round(min(confidence - 0.01, confidence * share * 0.8), 2),
                    why_not=why_not,
                )
            )
            if len(alternatives) >= MAX_ALTERNATIVES:
                break
        return alternatives

    def _missing_logs(self, stage: str | None, cause: str | None, codes: list[str]) -> list[str]:
        if stage is None:
            logs = ["C:\\Windows\\CCM\\Logs (the whole folder, zipped)"]
        else:
            logs = list(self.kb.stages[stage].logs)
        if stage in ("scan", "install") or any(_is_wua(code) for code in codes):
            logs.append("WindowsUpdate.log")
        if (
            stage == "install"
            or cause == "scan.applicability_failed"
            or any(_is_cbs(code) for code in codes)
        ):
            logs.append("CBS.log")
        return list(dict.fromkeys(logs))

    def _how_to_collect(self, stage: str | None, cause: str | None, codes: list[str]) -> list[str]:
        steps = collect_advice()
        for name in self._missing_logs(stage, cause, codes):
            info = self.kb.log_by_name(name)
            if info is not None and not info.in_ccm_logs and info.how_to_collect:
                steps.append(f"{info.name}: {info.how_to_collect}")
        return steps


class _SynonymGroups:
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
                words = _words(phrase)
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


def _codes_in(text: str, known: Container[str] = ()) -> list[str]:
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


def _main_clause(text: str) -> tuple[str, str]:
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


def _words(text: str) -> list[str]:
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


def _unparsed_lines(sample: str, entries: list[Entry]) -> str:
    """The lines of a paste that no parsed record starts on (a description around it)."""
    starts = {entry.line for entry in entries}
    return " ".join(
        line
        for number, line in enumerate(sample.splitlines(), 1)
        if number not in starts and "]LOG]!>" not in line
    )


def _is_wua(code: str) -> bool:
    return code.upper().startswith(("0X8024", "0X0024"))


def _is_cbs(code: str) -> bool:
    return code.upper().startswith(("0X800F", "0X80073"))


def _lower_first(title: str) -> str:
    """'The client ...' -> 'the client ...', but 'ConfigMgr ...' and 'WSUS ...' stay."""
    first = title.split(" ", 1)[0]
    if first[:1].isupper() and first[1:] == first[1:].lower():
        return title[0].lower() + title[1:]
    return title


def _first_sentence(text: str) -> str:
    match = re.match(r"(.+?[.!?])(\s|$)", text.strip(), re.DOTALL)
    return " ".join((match.group(1) if match else text).split())


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
