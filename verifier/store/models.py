"""Peewee tables, bound to a :class:`peewee.DatabaseProxy` so SQLite and PostgreSQL swap by URL.

Instants are stored as integer NumericDates (seconds since the epoch, UTC): the same type in both
databases and in the tokens, with no time-zone conversions in between.
"""

from __future__ import annotations

from peewee import (
    AutoField,
    BigIntegerField,
    CharField,
    CompositeKey,
    DatabaseProxy,
    ForeignKeyField,
    IntegerField,
    Model,
    SmallIntegerField,
    TextField,
)

database_proxy = DatabaseProxy()


class BaseModel(Model):
    """Every table lives on the proxied database."""

    class Meta:
        database = database_proxy
        legacy_table_names = False


class SkkMeta(BaseModel):
    """Named counters: ``schema_version`` and ``registry_version`` (bumped on any trust change)."""

    name = CharField(primary_key=True, max_length=40)
    value = BigIntegerField()


class Agency(BaseModel):
    """An issuer (LSP, Dinas PUPR, Balai) and the KKNI levels it may certify."""

    id = CharField(primary_key=True, max_length=40)
    name = CharField(max_length=200)
    kind = CharField(max_length=10)
    level_min = SmallIntegerField()
    level_max = SmallIntegerField()
    created_at = BigIntegerField()


class SigningKeyRecord(BaseModel):
    """A public key of one agency; the private half, if ours, is a file in SKK_KEYS_DIR."""

    kid = CharField(primary_key=True, max_length=16)
    agency = ForeignKeyField(Agency, backref="keys", on_delete="RESTRICT")
    agency_id: str  # peewee's accessor for the raw foreign-key value, declared for type checkers
    alg = CharField(max_length=8)
    public_jwk = TextField()
    origin = CharField(max_length=10)  # generated | imported
    state = CharField(max_length=10)  # active | retired | revoked
    not_before = BigIntegerField(null=True)  # start of service; None: no lower bound
    retired_at = BigIntegerField(null=True)
    revoked_at = BigIntegerField(null=True)
    created_at = BigIntegerField()

    class Meta:
        table_name = "signing_key"


class CredentialRecord(BaseModel):
    """A credential this service issued. The NIK is only ever here as a per-agency HMAC."""

    id = AutoField()
    agency = ForeignKeyField(Agency, backref="credentials", on_delete="RESTRICT")
    agency_id: str
    number = CharField(max_length=40)
    holder_name = CharField(max_length=100)
    job_title = CharField(max_length=100)
    job_code = CharField(max_length=8, null=True)
    level = SmallIntegerField()
    nik_hmac = CharField(max_length=64, null=True)
    kid = CharField(max_length=16)
    issued_at = BigIntegerField()
    valid_from = BigIntegerField()
    expires_at = BigIntegerField()
    token = TextField()

    class Meta:
        table_name = "credential"
        indexes = (
            (("agency", "number"), True),
            (("agency", "nik_hmac"), False),
            # schema version 2: what a compromised key signed, for re-issue (store.migrations)
            (("agency", "kid"), False),
        )


class RevocationRecord(BaseModel):
    """Current revoked/suspended state of one (agency, canonical number); absent when active."""

    agency = ForeignKeyField(Agency, on_delete="RESTRICT")
    number = CharField(max_length=40)
    status = CharField(max_length=10)  # revoked | suspended
    reason = CharField(max_length=20)
    at = BigIntegerField()

    class Meta:
        table_name = "revocation"
        primary_key = CompositeKey("agency", "number")


class RevocationEvent(BaseModel):
    """Append-only history of every revocation change: who, what, why, when."""

    id = AutoField()
    agency = ForeignKeyField(Agency, on_delete="RESTRICT")
    number = CharField(max_length=40)
    action = CharField(max_length=10)  # revoke | suspend | reinstate
    status = CharField(max_length=10)  # the status after the action
    reason = CharField(max_length=20, null=True)
    note = TextField(null=True)  # internal only; never in a public response
    actor = CharField(max_length=80)
    at = BigIntegerField()

    class Meta:
        table_name = "revocation_event"
        indexes = ((("agency", "number"), False),)


class ProjectOwner(BaseModel):
    """Who runs watched projects: a ministry, state company or supervising consultant."""

    id = CharField(primary_key=True, max_length=40)
    name = CharField(max_length=200)
    created_at = BigIntegerField()

    class Meta:
        table_name = "project_owner"


class ApiKeyRecord(BaseModel):
    """An API key of an agency or (schema 4) of a project owner: exactly one of the two is set.
    The id is public, the secret only kept as a hash."""

    key_id = CharField(primary_key=True, max_length=32)
    agency = ForeignKeyField(Agency, backref="api_keys", on_delete="RESTRICT", null=True)
    agency_id: str | None
    owner = ForeignKeyField(ProjectOwner, backref="api_keys", on_delete="RESTRICT", null=True)
    owner_id: str | None
    secret_hash = CharField(max_length=128)
    created_at = BigIntegerField()
    revoked_at = BigIntegerField(null=True)

    class Meta:
        table_name = "api_key"


class NikMiss(BaseModel):
    """One wrong NIK asked about a credential; enough of them lock NIK questions for a day."""

    id = AutoField()
    agency = ForeignKeyField(Agency, on_delete="RESTRICT")
    number = CharField(max_length=40)
    at = BigIntegerField()

    class Meta:
        table_name = "nik_miss"
        indexes = ((("agency", "number", "at"), False),)


class RateCounter(BaseModel):
    """Requests one client made in the current fixed window of one limit, shared by every worker
    and host (verifier.store.rate_counts); used where a per-worker count would be too lenient."""

    name = CharField(max_length=200, primary_key=True)  # SHA-256 hex of limits' counter key
    hits = IntegerField()
    expires_at_ms = BigIntegerField()  # milliseconds: a REAL would round epoch seconds on PG

    class Meta:
        table_name = "rate_counter"


# --- Watched projects of project owners (schema 4, verifier.crew) ----------------------------


class Project(BaseModel):
    """A project an owner watches: its period (dates in WIB) and the jobs and levels it needs."""

    id = CharField(primary_key=True, max_length=32)
    owner = ForeignKeyField(ProjectOwner, backref="projects", on_delete="RESTRICT")
    owner_id: str
    name = CharField(max_length=200)
    starts_on = CharField(max_length=10)  # YYYY-MM-DD: ISO dates compare as text
    ends_on = CharField(max_length=10)
    requirements = TextField()  # JSON list of {"job_code", "min_level"}
    created_at = BigIntegerField()

    class Meta:
        table_name = "project"
        indexes = ((("owner", "ends_on"), False),)


class CrewMember(BaseModel):
    """One worker of a project's crew, as the owner gave it: a scanned credential, or agency +
    number + name. Never a NIK. ``agency_id``/``number``/``expires_at`` name the credential
    once it was authenticated (signature or an issued record), so it can be watched."""

    id = AutoField()
    project = ForeignKeyField(Project, backref="crew", on_delete="CASCADE")
    project_id: str
    position = IntegerField()  # order in the list the owner sent
    line = IntegerField(null=True)  # line in the uploaded file
    ref = CharField(max_length=100, null=True)
    credential = TextField(null=True)
    given_agency = CharField(max_length=200, null=True)
    given_number = CharField(max_length=40, null=True)
    given_name = CharField(max_length=100, null=True)
    agency_id = CharField(max_length=40, null=True)
    number = CharField(max_length=40, null=True)
    expires_at = BigIntegerField(null=True)

    class Meta:
        table_name = "crew_member"
        indexes = ((("agency_id", "number"), False), (("project", "position"), False))


class WebhookSubscription(BaseModel):
    """Where a project's events are POSTed; the secret signs them (Standard Webhooks)."""

    id = CharField(primary_key=True, max_length=32)
    project = ForeignKeyField(Project, backref="webhooks", on_delete="CASCADE")
    project_id: str
    url = CharField(max_length=2000)
    secret = CharField(max_length=100)  # whsec_<base64>: needed in the clear to sign
    created_at = BigIntegerField()

    class Meta:
        table_name = "webhook_subscription"


class WebhookMessage(BaseModel):
    """The outbox: one event for one subscription, written in the transaction of the change.

    ``next_attempt_at`` is NULL once the message is delivered or given up; a notifier owns a
    message while ``lease_until`` is in the future, so a killed notifier's claim runs out.
    """

    id = AutoField()
    message_id = CharField(max_length=40, unique=True)  # the stable webhook-id
    subscription = ForeignKeyField(WebhookSubscription, on_delete="CASCADE")
    subscription_id: str
    event_type = CharField(max_length=40)
    body = TextField()  # the exact JSON sent on every attempt
    created_at = BigIntegerField()
    next_attempt_at = BigIntegerField(null=True, index=True)
    attempts = IntegerField(default=0)
    lease_owner = CharField(max_length=40, null=True)
    lease_until = BigIntegerField(null=True)
    delivered_at = BigIntegerField(null=True)
    given_up_at = BigIntegerField(null=True)
    last_status = IntegerField(null=True)  # HTTP status of the last attempt, 0: no answer
    last_error = CharField(max_length=200, null=True)

    class Meta:
        table_name = "webhook_message"


class ExpiryNotice(BaseModel):
    """An expiry warning already enqueued for this credential on this project: sent once."""

    project = ForeignKeyField(Project, on_delete="CASCADE")
    agency_id = CharField(max_length=40)
    number = CharField(max_length=40)
    at = BigIntegerField()

    class Meta:
        table_name = "expiry_notice"
        primary_key = CompositeKey("project", "agency_id", "number")


ALL_TABLES = (
    SkkMeta,
    Agency,
    SigningKeyRecord,
    CredentialRecord,
    RevocationRecord,
    RevocationEvent,
    ProjectOwner,
    ApiKeyRecord,
    NikMiss,
    RateCounter,
    Project,
    CrewMember,
    WebhookSubscription,
    WebhookMessage,
    ExpiryNotice,
)
