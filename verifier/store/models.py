"""Peewee tables, bound to a :class:`peewee.DatabaseProxy` so SQLite and PostgreSQL swap by URL.

Instants are stored as integer NumericDates (seconds since the epoch, UTC): the same type in both
databases and in the tokens, with no time-zone conversions in between.
"""

from __future__ import annotations

from peewee import (
    AutoField,
    BigIntegerField,
    BlobField,
    BooleanField,
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
    #: schema version 7: the number as it compares (core.credential.number_key: trimmed, single
    #: spaces, upper case), unique per agency, so that a number found however typed names one
    #: certificate. NULL only on a case-twin stored before version 7 (store.migrations).
    number_key = CharField(max_length=40, null=True)

    class Meta:
        table_name = "credential"
        indexes = (
            (("agency", "number"), True),
            (("agency", "nik_hmac"), False),
            # schema version 2: what a compromised key signed, for re-issue (store.migrations)
            (("agency", "kid"), False),
            (("agency", "number_key"), True),  # schema version 7
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
    """An API key of an agency or (schema 6) of a project owner: exactly one of the two is set.
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


class BundleKeyRecord(BaseModel):
    """A service key that signs offline trust bundles (docs/offline.md), never an agency's key;
    its private half is a file in SKK_KEYS_DIR on the hosts that sign bundles."""

    kid = CharField(primary_key=True, max_length=16)
    public_jwk = TextField()
    created_at = BigIntegerField()
    retired_at = BigIntegerField(null=True)

    class Meta:
        table_name = "bundle_key"


class OfflineChange(BaseModel):
    """One change an offline bundle delta must carry: a credential's revocation state, or, with
    agency and number NULL, the trust registry. ``seq`` orders changes as they committed
    (verifier.store.offline_changes)."""

    seq = BigIntegerField(primary_key=True)
    agency = CharField(max_length=40, null=True)
    number = CharField(max_length=40, null=True)

    class Meta:
        table_name = "offline_change"


# --- The audit log and the agency console (schema version 5, issue 12) ----------------------


class AuditEvent(BaseModel):
    """Append-only audit log of every action of every actor (CLI, API key, console user):
    issuing, state changes, approvals, staff accounts and sign-ins, keys and API keys.

    Never holds a NIK, a password or a secret; ``note`` only what revocation accepts as a note.
    """

    id = AutoField()
    agency = ForeignKeyField(Agency, null=True, on_delete="RESTRICT")  # None: no agency known
    agency_id: str | None
    at = BigIntegerField()
    actor = CharField(max_length=80)  # cli | apikey:<key id> | user:<username> | a pair joined by +
    action = CharField(max_length=24)  # verifier.store.audit.ACTIONS
    number = CharField(max_length=40, null=True)  # the credential acted on
    status = CharField(max_length=10, null=True)  # a credential's status after the action
    # A state change's public reason code; for other actions one word qualifying it (the role
    # given to a new user, what was wrong in a failed sign-in).
    reason = CharField(max_length=20, null=True)
    note = TextField(null=True)  # internal only
    subject = CharField(max_length=80, null=True)  # a username, kid, API key id or request id

    class Meta:
        table_name = "audit_event"
        indexes = ((("agency", "at"), False), (("agency", "number"), False))


class StaffUser(BaseModel):
    """A console account of one agency: Argon2id password hash, TOTP secret, role."""

    id = AutoField()
    agency = ForeignKeyField(Agency, on_delete="RESTRICT")
    agency_id: str
    username = CharField(max_length=32, unique=True)
    role = CharField(max_length=10)  # viewer | operator | admin
    password_hash = CharField(max_length=200)
    must_change_password = BooleanField()  # set by `skk user add|reset`: a one-time password
    totp_secret = CharField(max_length=64, null=True)  # base32; None until enrolment starts
    totp_enrolled_at = BigIntegerField(null=True)  # None until a first code confirmed it
    totp_last_step = BigIntegerField(null=True)  # RFC 6238 time step of the last code accepted
    created_at = BigIntegerField()
    disabled_at = BigIntegerField(null=True)

    class Meta:
        table_name = "staff_user"


class StaffSession(BaseModel):
    """A server-side console session; the cookie holds the id, the table only its SHA-256."""

    id_hash = CharField(primary_key=True, max_length=64)
    user = ForeignKeyField(StaffUser, null=True, on_delete="RESTRICT")  # None before sign-in
    user_id: int | None
    stage = CharField(max_length=10)  # anonymous | setup | active
    data = TextField()  # JSON: the CSRF token and one-time notices
    created_at = BigIntegerField()
    last_seen_at = BigIntegerField()
    expires_at = BigIntegerField()  # the absolute timeout

    class Meta:
        table_name = "staff_session"
        indexes = ((("expires_at",), False),)


class StaffDevice(BaseModel):
    """A browser a console user signed in from (``verifier.store.staff_devices``); the cookie
    holds the id, the table only its SHA-256."""

    id_hash = CharField(primary_key=True, max_length=64)
    user = ForeignKeyField(StaffUser, on_delete="CASCADE")
    user_id: int
    created_at = BigIntegerField()
    last_used_at = BigIntegerField(index=True)

    class Meta:
        table_name = "staff_device"


class AgencyPolicy(BaseModel):
    """An agency's console policy: four-eyes revocation (absent row: off)."""

    agency = ForeignKeyField(Agency, primary_key=True, on_delete="RESTRICT")
    agency_id: str
    four_eyes_revocation = BooleanField()
    changed_at = BigIntegerField()

    class Meta:
        table_name = "agency_policy"


class PendingApproval(BaseModel):
    """A step waiting for a second admin: a revocation, or turning four-eyes off."""

    id = AutoField()
    agency = ForeignKeyField(Agency, on_delete="RESTRICT")
    agency_id: str
    kind = CharField(max_length=16)  # revoke | four_eyes_off
    number = CharField(max_length=40, null=True)
    reason = CharField(max_length=20, null=True)
    note = TextField(null=True)
    requested_by = CharField(max_length=80)
    requested_at = BigIntegerField()
    decided_by = CharField(max_length=80, null=True)
    decided_at = BigIntegerField(null=True)
    outcome = CharField(max_length=10, null=True)  # None while pending | approved | rejected

    class Meta:
        table_name = "pending_approval"


class CohortImport(BaseModel):
    """A cohort file uploaded in the console: kept from preview to confirmation, then the
    issued entries (line, number, status) from which its print pack is built on download."""

    id = CharField(primary_key=True, max_length=32)  # random, unguessable
    agency = ForeignKeyField(Agency, on_delete="RESTRICT")
    agency_id: str
    user = ForeignKeyField(StaffUser, on_delete="RESTRICT")
    user_id: int
    kind = CharField(max_length=4)  # csv | xlsx
    content = BlobField(null=True)  # the file until it is issued (it holds NIKs), then None
    uploaded_at = BigIntegerField()
    issued_at = BigIntegerField(null=True)
    entries = TextField(null=True)  # JSON [[line, number, status], ...] once issued

    class Meta:
        table_name = "cohort_import"


# --- Watched projects of project owners (schema version 6, verifier.crew) -------------------


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


# --- Operations (schema version 7, issue 14) -------------------------------------------------


class IdempotencyRecord(BaseModel):
    """The first answer to an issuing request sent with an ``Idempotency-Key`` header, so that a
    retry gets it again instead of issuing twice (verifier.store.idempotency). ``scope`` names
    the agency (``agency:<id>``), so two agencies never see each other's keys."""

    id = AutoField()
    scope = CharField(max_length=80)
    key = CharField(max_length=255)
    fingerprint = CharField(max_length=64)  # SHA-256 hex of method, path and body
    status_code = IntegerField(null=True)  # NULL while the first request is still running
    response_body = TextField(null=True)
    created_at = BigIntegerField(index=True)

    class Meta:
        table_name = "idempotency_record"
        indexes = ((("scope", "key"), True),)


class JobMasterVersion(BaseModel):
    """One imported version of the jabatan kerja master (``skk jobs import``); the newest is the
    one issuing uses, the package's own list applies while none was imported."""

    version = IntegerField(primary_key=True)
    imported_at = BigIntegerField()
    actor = CharField(max_length=80)
    source = CharField(max_length=255)  # the file's name, as given
    sha256 = CharField(max_length=64)
    content = TextField()  # the validated rows as JSON

    class Meta:
        table_name = "job_master_version"


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
    BundleKeyRecord,
    OfflineChange,
    AuditEvent,
    StaffUser,
    StaffSession,
    StaffDevice,
    AgencyPolicy,
    PendingApproval,
    CohortImport,
    Project,
    CrewMember,
    WebhookSubscription,
    WebhookMessage,
    ExpiryNotice,
    IdempotencyRecord,
    JobMasterVersion,
)
