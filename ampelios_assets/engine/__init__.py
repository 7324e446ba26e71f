"""The computing core: plain functions over Polars frames, one module per pipeline step.

Nothing here imports Dagster, HTTP or database code. Functions below the
validation step trust their input frames to have the validated schema.
"""

from ampelios_assets.engine.clustering import BehaviourSegmenter, Segmentation, segment_visitors
from ampelios_assets.engine.features import journey_features
from ampelios_assets.engine.journeys import session_journeys, visitor_journeys
from ampelios_assets.engine.reading import read_event_csv
from ampelios_assets.engine.sessions import sessionized_events
from ampelios_assets.engine.validation import ValidatedEvents, validated_events

__all__ = [
    "BehaviourSegmenter",
    "Segmentation",
    "ValidatedEvents",
    "journey_features",
    "read_event_csv",
    "segment_visitors",
    "session_journeys",
    "sessionized_events",
    "validated_events",
    "visitor_journeys",
]
