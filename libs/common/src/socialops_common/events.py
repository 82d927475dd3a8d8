"""The canonical, platform-neutral event model shared by every service.

Every message on a `social.*.v1` topic is one of the pydantic models below, serialised as JSON.
Services depend on this module, never on each other.

Versioning: each model carries `schema_version`. Additive, optional fields keep the version;
anything else is a new topic suffix (`.v2`) consumed side by side until the old one drains.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

# A fixed namespace so that the same platform ids give the same event id on every machine.
EVENT_ID_NAMESPACE = uuid.UUID("6f1c2a52-5d0e-4c36-9a55-3f1d2b7e9c10")


def _as_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# Naive timestamps are refused by pydantic itself (AwareDatetime: "Input should have timezone
# info"); only the move to UTC is Python. An after-validator that also checked awareness cost
# 1.3 µs a field, on every message every service reads (measured for the archive, issue 6).
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_as_utc)]


def utc_now() -> datetime:
    return datetime.now(UTC)


def deterministic_id(*parts: str) -> str:
    """A UUID derived only from the given parts: redelivered inputs give the same id."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, "\x1f".join(parts)))


def text_fingerprint(text: str | None) -> str:
    """Short stable digest of a text, used to tell edit versions apart."""
    return hashlib.sha256((text or "").encode("utf-8")).hexdigest()[:16]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, use_enum_values=False)


class Platform(StrEnum):
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    X = "x"
    LINKEDIN = "linkedin"


class EventKind(StrEnum):
    """What happened. The account's own writing is kept apart from citizens' writing."""

    POST_PUBLISHED = "post.published"  # the account published a post
    POST_EDITED = "post.edited"
    POST_DELETED = "post.deleted"  # the account removed its own post
    COMMENT_CREATED = "comment.created"  # a citizen commented (or replied to a comment)
    COMMENT_EDITED = "comment.edited"  # a citizen edited a comment: a new version
    COMMENT_DELETED_BY_AUTHOR = "comment.deleted_by_author"
    COMMENT_HIDDEN = "comment.hidden"  # the city hid a comment (executor or editor in the platform)
    COMMENT_UNHIDDEN = "comment.unhidden"
    COMMENT_DELETED_BY_CITY = "comment.deleted_by_city"
    REPLY_BY_ACCOUNT = "reply.by_account"  # the account answered in a thread
    MENTION = "mention"  # the account was mentioned in someone else's post/comment
    DM_RECEIVED = "dm.received"
    DM_SENT = "dm.sent"  # the account (contact center) wrote in a DM conversation
    METRICS_SNAPSHOT = "metrics.snapshot"


CITIZEN_TEXT_KINDS = frozenset(
    {EventKind.COMMENT_CREATED, EventKind.COMMENT_EDITED, EventKind.MENTION, EventKind.DM_RECEIVED}
)
CITY_REMOVAL_KINDS = frozenset({EventKind.COMMENT_HIDDEN, EventKind.COMMENT_DELETED_BY_CITY})


class Author(_Model):
    id: str | None = None
    name: str | None = None
    is_account: bool = False  # true when the city's own account wrote it


MetricLevel = Literal["account", "post"]
METRIC_FIELDS = (
    "reach", "impressions", "video_views", "link_clicks", "interactions", "followers", "reactions", "comments",
    "shares", "saves", "new_followers", "lost_followers", "page_views", "engaged_accounts",
)


class MetricSnapshot(_Model):
    """Counters read from the platform's insights for one account (or one post) for one day or period.

    `None` is "not given", never zero. The insights poller (ingest, issue 15) fills the optional
    fields below; older producers (Instagram story webhooks) only the first ones.

    Versions: `snapshot_id` names the fact (platform, account, item, metric set, period, day); the
    event id also covers the values, so polling the same figures again gives the same event (dedupe)
    and a figure the platform revised (data arrives up to 48 h late) gives a new version of the same
    snapshot, which replaces the earlier one and is never added to it.
    """

    period: Literal["day", "week", "month", "lifetime"] = "day"
    reach: int | None = None  # unique people (accounts) reached
    impressions: int | None = None  # views: times content was shown
    video_views: int | None = None
    link_clicks: int | None = None
    interactions: int | None = None  # the platform's own engagement total (account level)
    followers: int | None = None  # follower count at the end of the day (or when polled)
    # --- optional, issue 15 -------------------------------------------------------------------
    level: MetricLevel | None = None  # None: an older producer (account level when item == account)
    snapshot_id: str | None = None
    metric_set: str | None = None  # which request the figures came from ("page_insights", "post", ...)
    day: date | None = None  # the platform's day (day), first day (month), or the day polled (lifetime)
    published_at: UtcDatetime | None = None  # post level: when the post was published
    reactions: int | None = None  # likes and other reactions
    comments: int | None = None
    shares: int | None = None  # shares, reposts, retweets and quotes
    saves: int | None = None  # saves and bookmarks
    new_followers: int | None = None  # follows gained in the period
    lost_followers: int | None = None  # unfollows in the period
    page_views: int | None = None
    engaged_accounts: int | None = None
    missing: list[str] = Field(default_factory=list, description="fields asked for that the platform did not give")

    def values(self) -> dict[str, int | None]:
        return {name: getattr(self, name) for name in METRIC_FIELDS}


class SocialEvent(_Model):
    """One thing that happened on one of the city's accounts, normalised from a platform payload."""

    schema_version: Literal[1] = SCHEMA_VERSION
    event_id: str
    kind: EventKind
    platform: Platform
    account_id: str = Field(description="the platform's id of the city's account (page, user, org)")
    item_id: str = Field(description="the platform's id of the item: post, comment or message")
    thread_id: str = Field(description="root post id, or DM conversation id")
    parent_id: str | None = Field(default=None, description="the comment or post this one answers")
    author: Author = Field(default_factory=Author)
    text: str | None = None
    permalink: str | None = None
    occurred_at: UtcDatetime
    received_at: UtcDatetime
    metrics: MetricSnapshot | None = None
    account_known: bool = Field(default=True, description="false when not in the account inventory")
    raw: dict[str, Any] = Field(default_factory=dict, description="the platform's payload entry, as received")

    @property
    def partition_key(self) -> bytes:
        return thread_key(self.platform, self.account_id, self.thread_id)


def metric_snapshot_id(platform: Platform | str, account_id: str, item_id: str, metric_set: str, period: str,
                       day: date) -> str:
    """The fact a metric snapshot is about: every version of it (re-polls) shares this id."""
    return deterministic_id("metric", Platform(platform).value, account_id, item_id, metric_set, period,
                            day.isoformat())


def metric_event_id(snapshot: MetricSnapshot) -> str:
    """The id of one version: the same figures polled again give the same id (consumers dedupe)."""
    if snapshot.snapshot_id is None:
        raise ValueError("a versioned snapshot needs its snapshot_id")
    figures = ",".join(f"{name}={value}" for name, value in snapshot.values().items() if value is not None)
    published = snapshot.published_at.isoformat() if snapshot.published_at else ""
    return deterministic_id("metric-version", snapshot.snapshot_id, figures, ",".join(sorted(snapshot.missing)),
                            published)


def thread_key(platform: Platform | str, account_id: str, thread_id: str) -> bytes:
    """Kafka key that keeps everything about one thread in order on one partition."""
    return f"{Platform(platform).value}:{account_id}:{thread_id}".encode()


def social_event_id(platform: Platform | str, kind: EventKind | str, item_id: str, version: str = "") -> str:
    """Deterministic id: the same platform item and version always yield the same event id.

    `version` tells apart several events of one kind on one item (e.g. successive edits);
    callers pass something the platform repeats on redelivery (edit time, notification id).
    """
    return deterministic_id("social", Platform(platform).value, EventKind(kind).value, item_id, version)


# --- account inventory (social.accounts.v1, compacted) -------------------------------------------


class ArchiveLevel(StrEnum):
    """Stockholm city archive guidance: the level at which an account is archived."""

    OVERVIEW = "overview"  # översiktsbild
    UNIQUE = "unique"  # unik information
    FULL = "full"  # fullständig arkivering


class AccountStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class AccountRecord(_Model):
    schema_version: Literal[1] = SCHEMA_VERSION
    platform: Platform
    external_id: str
    name: str
    department: str = Field(description="owning förvaltning")
    editors: list[str] = Field(default_factory=list)
    status: AccountStatus = AccountStatus.ACTIVE
    start_date: date | None = None
    closed_date: date | None = None
    decision_reference: str | None = None
    archive_level: ArchiveLevel = ArchiveLevel.UNIQUE
    response_calendar: Literal["business", "always_open"] = "business"
    response_target_hours: float = 24.0
    moderation_policy: str | None = Field(default=None, description="name of a per-account policy override")
    department_email: str | None = Field(default=None, description="where the department's monthly report and "
                                         "publishing notices go")
    updated_at: UtcDatetime | None = None

    @property
    def key(self) -> bytes:
        return account_key(self.platform, self.external_id)


def account_key(platform: Platform | str, external_id: str) -> bytes:
    return f"{Platform(platform).value}:{external_id}".encode()


# --- insights polling (social.insights.v1, compacted) ---------------------------------------------


class PollState(StrEnum):
    OK = "ok"
    NO_TOKEN = "no_token"  # not polled: the inventory has the account, the poller no token for it
    TOKEN_EXPIRED = "token_expired"  # the platform refused the token (Graph 190, HTTP 401)
    RATE_LIMITED = "rate_limited"  # waiting until the platform lets us in again
    FAILING = "failing"  # outage or an answer we could not read; retried next cycle


class InsightsPollStatus(_Model):
    """How polling one account's insights goes: the latest record per account (compacted topic).

    `covered_until` is the last day whose figures were all read: after a restart or an outage the
    poller starts from there (minus the re-poll window), so no day is skipped.
    """

    schema_version: Literal[1] = SCHEMA_VERSION
    platform: Platform
    account_id: str
    state: PollState
    detail: str | None = None
    covered_until: date | None = None
    # since when figures exist at all: the first day read, the oldest posts read (a month that began
    # earlier was read only in part, and its sums are incomplete)
    covered_since: date | None = None
    posts_covered_since: UtcDatetime | None = None
    last_success_at: UtcDatetime | None = None
    retry_after: UtcDatetime | None = None
    missing_metrics: list[str] = Field(default_factory=list, description="platform metrics it refused as invalid")
    updated_at: UtcDatetime

    @property
    def key(self) -> bytes:
        return account_key(self.platform, self.account_id)


# --- moderation (social.moderation.v1) -----------------------------------------------------------


class ModerationAction(StrEnum):
    ALLOW = "allow"
    REVIEW = "review"
    HIDE = "hide"
    DELETE = "delete"


class TextSpan(_Model):
    start: int
    end: int
    label: str


class RuleHit(_Model):
    rule_id: str  # e.g. "personal_data.personnummer"
    clause: str  # the guideline clause, "seed file + heading"
    confidence: float = Field(ge=0.0, le=1.0)
    spans: list[TextSpan] = Field(default_factory=list)


class Actor(_Model):
    """A person (or machine client) who did something by hand, as the identity provider's token names them."""

    subject: str = Field(description="the token's `sub`, or 'client:<name>' for a machine client")
    name: str
    email: str | None = None
    kind: Literal["person", "machine"] = "person"


class SpeechAct(StrEnum):
    """What a comment does (Svenska Akademiens grammatik): asks, tells to, expresses, states."""

    QUESTION = "question"
    DIRECTIVE = "directive"
    EXPRESSIVE = "expressive"
    ASSERTION = "assertion"


class WeighedWord(_Model):
    """A word that pushed the model's score for `label` up: offsets into the original text (like
    rule spans), the folded word (never one inside a personal-data span) and its weight."""

    label: str
    start: int
    end: int
    weight: float
    term: str | None = None


class ModelOpinion(_Model):
    """The learned second opinion on one comment: calibrated probability of harm per class, the
    model's version, and the words that weighed most for the classes it flagged."""

    version: str
    scores: dict[str, float] = Field(default_factory=dict)
    words: list[WeighedWord] = Field(default_factory=list)


class ModerationDecision(_Model):
    schema_version: Literal[1] = SCHEMA_VERSION
    decision_id: str
    event_id: str = Field(description="canonical id of the item version decided on")
    platform: Platform
    account_id: str
    item_id: str
    thread_id: str
    author_id: str | None = None
    item_kind: EventKind
    action: ModerationAction
    block_author: bool = False
    needs_answer: bool = False
    rules: list[RuleHit] = Field(default_factory=list)
    confidence: float = Field(ge=0.0, le=1.0, default=1.0)
    masked_text: str | None = Field(default=None, description="the text with matched personal data masked")
    language: str | None = None
    notification_text: str | None = Field(default=None, description="what the commenter is told (sv)")
    decided_by: str = "moderation"  # "moderation" or the reviewer's name and e-mail
    reviewer: Actor | None = Field(default=None, description="the person whose verdict this is")
    reason: str | None = None  # a reviewer's why
    supersedes: str | None = None  # decision_id this one overrides
    policy: str = "default"
    decided_at: UtcDatetime
    # Added for issue 14 (optional: decisions written before it have none).
    speech_act: SpeechAct | None = None
    friendly: bool | None = None  # thanks, praise, a kind word: the console's "like"
    model: ModelOpinion | None = None

    @property
    def partition_key(self) -> bytes:
        return thread_key(self.platform, self.account_id, self.thread_id)


# --- platform actions (social.actions.v1) --------------------------------------------------------


class ActionOperation(StrEnum):
    HIDE = "hide"
    UNHIDE = "unhide"
    DELETE = "delete"
    BLOCK_AUTHOR = "block_author"
    # What people do from the console (issue 13): answer in the thread or the DM conversation, like a
    # friendly comment, and tell a commenter why their comment was removed (Meta's Private Replies).
    REPLY = "reply"
    LIKE = "like"
    NOTIFY = "notify"


PERSON_OPERATIONS = frozenset({ActionOperation.REPLY, ActionOperation.LIKE, ActionOperation.NOTIFY})


class _PlatformAction(_Model):
    """What a command and its outcome share: which action, on which item, of which thread."""

    schema_version: Literal[1] = SCHEMA_VERSION
    action_id: str
    decision_id: str = Field(description="the moderation decision carried out, or for a person's action "
                                         "(reply, like, notify) the id of their request")
    event_id: str
    platform: Platform
    account_id: str
    item_id: str
    thread_id: str
    operation: ActionOperation

    @property
    def partition_key(self) -> bytes:
        return thread_key(self.platform, self.account_id, self.thread_id)


class PlatformActionCommand(_PlatformAction):
    type: Literal["command"] = "command"
    author_id: str | None = None
    notification_text: str | None = None
    requested_at: UtcDatetime
    # A person's action: what is sent (reply, notice), to whom in a DM conversation, on what kind of item.
    text: str | None = None
    recipient_id: str | None = Field(default=None, description="the citizen a DM reply goes to (PSID, X user id)")
    item_kind: EventKind | None = Field(default=None, description="what item_id is: a comment, a DM, a mention")
    requested_by: Actor | None = None


class ActionStatus(StrEnum):
    DONE = "done"
    DRY_RUN = "dry_run"
    FAILED = "failed"
    UNSUPPORTED = "unsupported"  # the platform has no way to do it (said in `detail`, never retried)


class PlatformActionOutcome(_PlatformAction):
    type: Literal["outcome"] = "outcome"
    status: ActionStatus
    attempts: int = 1
    http_status: int | None = None
    detail: str | None = None
    completed_at: UtcDatetime
    error_code: str | None = Field(default=None, description="the platform's error, e.g. 'graph:10', 'x:403'")
    created_id: str | None = Field(default=None, description="the id of what the platform created (a reply)")


ActionMessage = Annotated[PlatformActionCommand | PlatformActionOutcome, Field(discriminator="type")]


# --- SLA (social.sla.v1) -------------------------------------------------------------------------


class SlaState(StrEnum):
    OPEN = "open"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    MET = "met"
    CANCELLED = "cancelled"


class SlaStateChange(_Model):
    schema_version: Literal[1] = SCHEMA_VERSION
    change_id: str = Field(description="deterministic: the same transition always has the same id")
    event_id: str = Field(description="canonical id of the item that needs an answer")
    item_id: str
    thread_id: str
    platform: Platform
    account_id: str
    department: str | None = None
    item_kind: EventKind
    state: SlaState
    previous_state: SlaState | None = None
    received_at: UtcDatetime
    deadline: UtcDatetime
    changed_at: UtcDatetime
    answered_at: UtcDatetime | None = None
    answer_event_id: str | None = None
    response_working_seconds: float | None = None
    response_wall_seconds: float | None = None
    reason: str | None = None  # e.g. "replied", "no_answer_needed", "hidden"
    by: Actor | None = Field(default=None, description="the person whose action this was (staff actions)")

    @property
    def partition_key(self) -> bytes:
        return thread_key(self.platform, self.account_id, self.thread_id)


# --- dead letters (social.deadletter.v1) ---------------------------------------------------------


class DeadLetter(_Model):
    schema_version: Literal[1] = SCHEMA_VERSION
    dead_letter_id: str
    source: str = Field(description="who gave up: 'ingest.meta', 'archive.consumer', ...")
    reason: str
    topic: str | None = Field(default=None, description="topic the message came from, for consumers")
    partition: int | None = None
    offset: int | None = None
    key: str | None = None
    payload: str = Field(description="the raw body (utf-8, or base64 when not text)")
    payload_encoding: Literal["utf-8", "base64"] = "utf-8"
    headers: dict[str, str] = Field(default_factory=dict)
    attempts: int = 1
    failed_at: UtcDatetime
