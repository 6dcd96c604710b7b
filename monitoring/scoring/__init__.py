"""Sigap scoring engine: language, sentiment, provocation, crisis triggers, entities and risk.

from monitoring.scoring import get_scorer, ScoreInput, TenantExtensions
results = get_scorer().score_batch([ScoreInput("pelayanannya goblok banget #boikot")])
results[0].to_dict()
"""

from .risk import risk_score
from .schema import (
    SCORER_VERSION,
    TRIGGER_LABELS,
    Entity,
    Evidence,
    ScoreInput,
    ScoreResult,
    TenantExtensions,
)
from .scorer import Scorer, ScoringError, get_scorer

__all__ = [
    "SCORER_VERSION",
    "TRIGGER_LABELS",
    "Entity",
    "Evidence",
    "ScoreInput",
    "ScoreResult",
    "Scorer",
    "ScoringError",
    "TenantExtensions",
    "get_scorer",
    "risk_score",
]
