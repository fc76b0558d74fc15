"""Models of the valuestreams app: value streams, their maps, work items and flow metrics."""

from valuestreams.models.flow import (
    FlowFact,
    FlowSnapshot,
    FlowSpan,
    StatusChange,
    StatusMapping,
    TypeMapping,
    WorkItem,
    WorkSource,
)
from valuestreams.models.maps import ImprovementOutcome, MapStep, ValueStreamMap
from valuestreams.models.registry import ValueStream

__all__ = [
    "FlowFact",
    "FlowSnapshot",
    "FlowSpan",
    "ImprovementOutcome",
    "MapStep",
    "StatusChange",
    "StatusMapping",
    "TypeMapping",
    "ValueStream",
    "ValueStreamMap",
    "WorkItem",
    "WorkSource",
]
