"""Models of the valuestreams app: value streams, their maps, work items and flow metrics."""

from valuestreams.models.flow import (
    FlowSnapshot,
    StatusChange,
    StatusMapping,
    TypeMapping,
    WorkItem,
    WorkSource,
)
from valuestreams.models.maps import ImprovementOutcome, MapStep, ValueStreamMap
from valuestreams.models.registry import ValueStream

__all__ = [
    "FlowSnapshot",
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
