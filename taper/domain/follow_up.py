"""What a follow-up consultation records, with the scales it uses.

- PEG: three items scored 0 to 10 (average Pain intensity, interference with Enjoyment of life, interference
  with General activity), as used by the CDC Pocket Guide to judge benefit (docs/clinical-sources.md, Withdrawal
  and benefit scales).
- Withdrawal: the Short Opiate Withdrawal Scale of Gossop (SOWS-Gossop; Gossop M., Addictive Behaviors 1990;
  15:487-490): ten symptoms over the last 24 hours, each none 0, mild 1, moderate 2, severe 3; total 0 to 30
  (docs/clinical-sources.md, Withdrawal and benefit scales).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

PEG_ITEMS = {
    "pain": "Average pain in the past week",
    "enjoyment": "How much pain has interfered with enjoyment of life",
    "activity": "How much pain has interfered with general activity",
}
PEG_MAX = 10

SOWS_GOSSOP_ITEMS = {
    "feeling_sick": "Feeling sick",
    "stomach_cramps": "Stomach cramps",
    "muscle_spasms": "Muscle spasms or twitching",
    "feeling_cold": "Feeling of coldness",
    "heart_pounding": "Heart pounding",
    "muscle_tension": "Muscular tension",
    "aches_and_pains": "Aches and pains",
    "yawning": "Yawning",
    "runny_eyes": "Runny eyes",
    "insomnia": "Insomnia or problems sleeping",
}
SOWS_MAX_PER_ITEM = 3
SOWS_SCORES = {0: "None", 1: "Mild", 2: "Moderate", 3: "Severe"}


class Mode(StrEnum):
    FACE_TO_FACE = "face_to_face"
    PHONE = "phone"
    VIDEO = "video"

    @property
    def label(self) -> str:
        return {"face_to_face": "Face to face", "phone": "Phone", "video": "Video"}[self.value]


class Outcome(StrEnum):
    """The patient's decision at the follow-up."""

    CONTINUE = "continue"
    HOLD = "hold"
    SLOW = "slow"
    GO_BACK = "go_back"
    STOP = "stop"

    @property
    def label(self) -> str:
        return {"continue": "Continue as planned", "hold": "Hold the current step for some days",
                "slow": "Slow the pace from now on", "go_back": "Go back one step",
                "stop": "Stop the plan"}[self.value]


def peg_score(scores: dict[str, int]) -> float:
    """The PEG score: the mean of the three items."""
    return round(sum(scores[item] for item in PEG_ITEMS) / len(PEG_ITEMS), 1)


def sows_total(scores: Mapping[str, int | None]) -> int | None:
    """The SOWS-Gossop total of the items assessed; None when none was (there is no total, not a total of 0)."""
    assessed = [score for item in SOWS_GOSSOP_ITEMS if (score := scores.get(item)) is not None]
    return sum(assessed) if assessed else None
