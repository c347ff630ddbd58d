"""Writes a symptom diagnosis: the summary, documented steps, ledger, alternatives and
logs to send, from the stage and cause the index chose."""

from __future__ import annotations

from knowledge.diagnosis.advice import how_to_collect, step, windows_logs_wanted
from knowledge.kb import KnowledgeBase, StepRef
from knowledge.models import (
    STAGE_IDS,
    Alternative,
    Diagnosis,
    LedgerRow,
)
from knowledge.symptoms.evidence import MAX_ALTERNATIVES, SymptomEvidence
from knowledge.symptoms.words import first_sentence, lower_first


class AnswerWriter:
    """The part of `SymptomIndex` that turns its choice into a `Diagnosis`."""

    kb: KnowledgeBase

    def _failure(
        self,
        evidence: SymptomEvidence,
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
            summary = f"{lead}; the text does not say which cause. " + first_sentence(stage.what)
            procedure = self.kb.procedures[stage.procedure]
            refs = [(procedure.id, n) for n in range(1, min(3, len(procedure.steps)) + 1)]
        else:
            cause = self.kb.causes[cause_id]
            if cause_id.endswith(".failed"):  # the stage's "cause unclear" entry
                summary = f"{lead}; the text does not say why. "
            elif why and cause_id not in evidence.cause_votes:
                # The code or line gave only the stage; the words chose the cause.
                summary = f"{lead}; the wording suggests {lower_first(cause.title)}. "
            else:
                summary = f"{lead}: {lower_first(cause.title)}. "
            summary += first_sentence(cause.summary)
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
            next_steps=[step(self.kb, StepRef(procedure=p, step=n)) for p, n in refs],
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

    def _inconclusive(self, evidence: SymptomEvidence) -> Diagnosis:
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

    def _ledger(self, evidence: SymptomEvidence, failed: str | None) -> list[LedgerRow]:
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
        evidence: SymptomEvidence,
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
                why_not = f"{reason} names {lower_first(self.kb.causes[chosen].title)}"
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
        """A description shows no logs: ask for the stage's own (or all of CCM\\Logs)."""
        if stage is None:
            logs = ["C:\\Windows\\CCM\\Logs (the whole folder, zipped)"]
        else:
            logs = list(self.kb.stages[stage].logs)
        return list(dict.fromkeys(logs + windows_logs_wanted(stage, cause, codes)))

    def _how_to_collect(self, stage: str | None, cause: str | None, codes: list[str]) -> list[str]:
        return how_to_collect(self.kb, self._missing_logs(stage, cause, codes))
