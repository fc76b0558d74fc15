"""Models of the products app: the registry, outcomes and roadmaps, and their change history."""

from products.models.history import ChangeRecord
from products.models.outcomes import (
    Hypothesis,
    HypothesisStatusChange,
    KeyResult,
    Measurement,
    Outcome,
    RoadmapItem,
)
from products.models.registry import Discipline, Person, Product, Team, TeamMembership

__all__ = [
    "ChangeRecord",
    "Discipline",
    "Hypothesis",
    "HypothesisStatusChange",
    "KeyResult",
    "Measurement",
    "Outcome",
    "Person",
    "Product",
    "RoadmapItem",
    "Team",
    "TeamMembership",
]
