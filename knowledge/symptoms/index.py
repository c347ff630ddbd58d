"""The symptom index: the BM25 index over symptoms.yaml and the causes, and the choice of
stage and cause from the three kinds of evidence the package docstring describes (codes,
pasted lines, words)."""

from __future__ import annotations

import difflib
import io
import math
from collections import Counter
from collections.abc import Iterable, Sequence

import bm25s
import numpy as np
import Stemmer

from knowledge.formats import detect_reading, parse_entries
from knowledge.kb import KnowledgeBase, Signature
from knowledge.lookup import lookup_error
from knowledge.models import (
    STAGE_IDS,
    CodeRef,
    Diagnosis,
    Entry,
)
from knowledge.reading.collector import signature_set
from knowledge.symptoms.answer import AnswerWriter
from knowledge.symptoms.evidence import (
    CONFIDENCE_THRESHOLD,
    PASTE_CHARS,
    QUOTED_LINE_CHARS,
    QUOTED_LINES,
    SIDE_WEIGHT,
    WEAK_WEIGHT,
    WORD_CHARS,
    SymptomEvidence,
)
from knowledge.symptoms.words import (
    CMTRACE_MARKUP,
    GENERIC_PHRASES,
    GENERIC_WORDS,
    KEPT_WORDS,
    STOP_WORDS,
    SynonymGroups,
    codes_in,
    main_clause,
    unparsed_lines,
    words_of,
)


class SymptomIndex(AnswerWriter):
    """BM25 over symptom phrasings, with the code table and signatures beside it."""

    def __init__(self, knowledge: KnowledgeBase):
        self.kb = knowledge
        self._stemmer = Stemmer.Stemmer("english")
        self._synonyms = SynonymGroups(knowledge.synonyms, self._stem_words)
        self._signatures = signature_set(knowledge)
        self._corrections: dict[str, str | None] = {}

        documents: list[list[str]] = []
        self._doc_cause: list[str] = []
        raw_vocabulary: set[str] = set(self._synonyms.words)
        for cause_id, text in self._documents():
            words = words_of(text)
            raw_vocabulary.update(words)
            documents.append(self._analyse(words))
            self._doc_cause.append(cause_id)
        self._vocabulary = sorted(
            w for w in raw_vocabulary if w.isalpha() and len(w) > 3 and w not in STOP_WORDS
        )
        self._stems = {stem for doc in documents for stem in doc}
        self._uninformative = set(self._analyse(sorted(GENERIC_WORDS | KEPT_WORDS)))
        for phrase in GENERIC_PHRASES:
            self._uninformative.update(self._analyse(words_of(phrase)))
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
        return self._synonyms.replace(self._stem_words([w for w in words if w not in STOP_WORDS]))

    def _correct(self, word: str) -> str:
        """The vocabulary word a misspelled word most likely meant (or the word itself)."""
        if (
            len(word) < 4
            or not word.isalpha()
            or word in STOP_WORDS
            or word in GENERIC_WORDS
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
        words = words_of(text)
        corrected = [self._correct(w) for w in words]
        guessed = [fixed for word, fixed in zip(words, corrected, strict=True) if fixed != word]
        return self._analyse(corrected), set(self._analyse(guessed))

    # --- evidence -------------------------------------------------------------------

    def _rank_words(self, text: str, evidence: SymptomEvidence) -> None:
        main, side = main_clause(text)
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

    def _weigh_codes(self, text: str, evidence: SymptomEvidence) -> None:
        for code in codes_in(text[:PASTE_CHARS], self.kb.codes):
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
        self, evidence: SymptomEvidence, stage: str, code: str, why: str, weight: float = 1.0
    ) -> None:
        """A code that names only a stage: that stage's causes which list the code gain most."""
        evidence.stage_votes[stage] = evidence.stage_votes.get(stage, 0.0) + weight
        evidence.reasons.setdefault(stage, why)
        for cause in self.kb.causes.values():
            if cause.stage == stage and code in cause.codes:
                evidence.cause_votes[cause.id] = evidence.cause_votes.get(cause.id, 0.0) + 0.5

    def _vote(
        self, evidence: SymptomEvidence, stage: str, cause: str, weight: float, why: str
    ) -> None:
        evidence.cause_votes[cause] = evidence.cause_votes.get(cause, 0.0) + weight
        evidence.stage_votes[stage] = evidence.stage_votes.get(stage, 0.0) + weight
        evidence.reasons.setdefault(stage, why)

    def _read_pasted_lines(self, text: str, evidence: SymptomEvidence) -> str:
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
        around = CMTRACE_MARKUP.sub(" ", unparsed_lines(sample, entries))
        return " ".join([around, *unexplained])

    def _read_quoted_lines(self, text: str, evidence: SymptomEvidence) -> None:
        """A log message typed or quoted in prose ("WUAHandler says `Scan failed with error =
        0x80244022`") votes as that line's failure signature would, whatever log it names."""
        matcher = self._signatures.for_any_log()
        for line in text.splitlines()[:QUOTED_LINES]:
            for signature, _update in matcher.matches(line[:QUOTED_LINE_CHARS]):
                spec = signature.spec
                if spec.outcome != "failed":
                    continue
                self._vote_failure(evidence, spec, f"the quoted log line ({spec.title or spec.id})")

    def _match_line(self, entry: Entry, fmt: str, evidence: SymptomEvidence) -> str | None:
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

    def _vote_failure(self, evidence: SymptomEvidence, spec: Signature, why: str) -> None:
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
        evidence = SymptomEvidence()
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

    def _supported_cause(self, evidence: SymptomEvidence, best: str) -> str | None:
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

    def _rank_causes(self, evidence: SymptomEvidence) -> list[tuple[str, float]]:
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
        evidence: SymptomEvidence,
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
