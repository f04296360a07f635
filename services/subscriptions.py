"""The rules of a subscription (webhook or alert), validated once for every way one is made.

Why shared: ``POST /webhooks``, ``POST /alerts``, the dashboard's forms and ``wirewatch webhooks|alerts
add`` all store the same ``filters``; each used to check them its own way, and a webhook with an unknown
topic was stored and silently never fired. Every field is checked as ``/stories`` checks its query
parameter of the same name (an unknown topic is refused with the valid ones listed), so a rule that
validates here means what it means there.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from services.vocabulary import TOPICS, LifecycleState

MAX_Q: Final = 500  # as /stories?q=
MAX_VALUES: Final = 20  # per list: a subscription is a rule, not a data set
MAX_VALUE_CHARS: Final = 256  # as /stories?entity=

EventType = Literal["story.created", "story.updated", "story.merged", "ceasefire.created", "ceasefire.state_changed"]
CeasefireScopeName = Literal["full", "energy_infrastructure", "maritime", "humanitarian", "local", "holiday",
                             "unilateral"]
DigestPeriod = Literal["hourly", "daily"]


def _known_topic(name: str) -> str:
    if name not in TOPICS:
        raise ValueError(f"unknown topic {name!r}; allowed: {', '.join(TOPICS)}")
    return name


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed")
    return value


TopicName = Annotated[str, AfterValidator(_known_topic)]
Value = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_VALUE_CHARS),
                  AfterValidator(_no_nul)]
LangCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]
Query = Annotated[str, StringConstraints(max_length=MAX_Q), AfterValidator(_no_nul)]


class SubscriptionRules(BaseModel):
    """What a subscription receives. Story rules (all must hold; lists are any-of): ``topics``,
    ``entities`` (id or name), ``sources``, ``languages``, ``states``, ``min_confidence``, ``q``
    (every word, as ``/stories?q=``). ``events`` absent or empty: the story events; else exactly those
    listed. ``parties`` and ``scopes`` (any of) narrow ceasefire events, as ``states`` does. ``digest``:
    one message per hour or day instead of one per story."""

    model_config = ConfigDict(extra="forbid")

    topics: list[TopicName] = Field(default_factory=list, max_length=MAX_VALUES)
    entities: list[Value] = Field(default_factory=list, max_length=MAX_VALUES)
    sources: list[Value] = Field(default_factory=list, max_length=MAX_VALUES)
    languages: list[LangCode] = Field(default_factory=list, max_length=MAX_VALUES,
                                      description="ISO 639-1 codes, as /stories?lang=")
    min_confidence: float | None = Field(None, ge=0, le=1)
    states: list[LifecycleState] = Field(default_factory=list)
    q: Query | None = Field(None, description="full-text words every story must contain (as /stories?q=)")
    events: list[EventType] | None = Field(None, description="event types to receive (absent: the story events); "
                                           "ceasefire.created, ceasefire.state_changed for the ceasefire tracker")
    parties: list[Value] | None = Field(None, max_length=MAX_VALUES,
                                        description="ceasefire events: a party's entity id or name (any of)")
    scopes: list[CeasefireScopeName] | None = Field(None, description="ceasefire events: scopes (any of)")
    digest: DigestPeriod | None = Field(None, description="one message per period instead of one per story: the "
                                        "new stories and ceasefire state changes of the hour or day, by topic")

    def stored(self) -> dict[str, Any]:
        """The ``filters`` a subscription row keeps: the rules given, nothing unset."""
        return self.model_dump(include=set(SubscriptionRules.model_fields), exclude_none=True)


FIELDS: Final = frozenset(SubscriptionRules.model_fields)


def problems(exc: ValidationError) -> str:
    """A validation error as one line a terminal or a form can show: ``topics: unknown topic 'x'; allowed: …``."""
    out = []
    for e in exc.errors():
        where = ".".join(str(p) for p in e["loc"] if not isinstance(p, int)) or "rules"
        out.append(f"{where}: {e['msg'].removeprefix('Value error, ')}")
    return "; ".join(out)
