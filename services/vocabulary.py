"""The shared words of the pipeline: topic names and ceasefire lifecycle states.

Why here: the enricher produces them (``enrich/taxonomy.json`` holds the rules), the API validates
filters against them, subscriptions store them. They are part of the event contract, so every stage
reads them from this one module; a unit test checks the taxonomy defines exactly these topics.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

TOPICS: Final = (
    "ceasefire", "peace_talks", "energy_infrastructure_strike", "military_aid", "sanctions",
    "prisoner_exchange", "humanitarian_aid", "territorial_change",
)

LifecycleState = Literal["proposed", "agreed", "in_force", "rejected", "violated", "extended", "collapsed",
                         "expired"]
LIFECYCLE_STATES: Final[tuple[str, ...]] = get_args(LifecycleState)

# What a headline says happened (enrich/event_kinds.json holds the cues per language; api/sink/linking.py
# compares them). Generic kinds are reported next to most others (a strike that kills, a coup that detains):
# shared, they are weak evidence; they never make two reports different events.
EVENT_KINDS: Final = (
    "attack", "ceasefire", "talks", "prisoners", "acquisition", "election", "disaster", "crash", "protest", "coup",
    "withdrawal", "drills", "sanctions", "measure", "outage", "capture", "mobilisation", "killing", "arrest",
)
GENERIC_EVENT_KINDS: Final = frozenset({"killing", "arrest"})
