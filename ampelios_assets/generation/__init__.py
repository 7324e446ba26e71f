"""Synthetic Retailrocket-format events: realistic ones, and ones with planted groups."""

from ampelios_assets.generation.planted import (
    PLANTED_GROUP_NAMES,
    PLANTED_GROUPS,
    BehaviourGroup,
    planted_events,
)
from ampelios_assets.generation.retailrocket import (
    RetailrocketTotals,
    retailrocket_events,
    retailrocket_totals,
)
from ampelios_assets.generation.writing import groups_path_for, write_events, write_groups

__all__ = [
    "PLANTED_GROUPS",
    "PLANTED_GROUP_NAMES",
    "BehaviourGroup",
    "RetailrocketTotals",
    "groups_path_for",
    "planted_events",
    "retailrocket_events",
    "retailrocket_totals",
    "write_events",
    "write_groups",
]
