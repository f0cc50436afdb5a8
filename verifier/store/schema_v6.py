"""The tables schema version 6 adds, frozen as that step creates them
(``verifier.store.migrations``).

A migration step must never use the current models: they describe the newest schema, which may
have moved on. These classes are bound to the database being upgraded and to nothing else.
"""

from __future__ import annotations

import peewee
from peewee import (
    AutoField,
    BigIntegerField,
    CharField,
    CompositeKey,
    ForeignKeyField,
    IntegerField,
    TextField,
)


def tables(database: peewee.Database) -> list[type[peewee.Model]]:
    """Owner, project, crew member, webhook subscription and message, expiry notice; in order."""

    class Base(peewee.Model):
        class Meta:
            legacy_table_names = False

    Base._meta.set_database(database)

    class ProjectOwner(Base):
        id = CharField(primary_key=True, max_length=40)
        name = CharField(max_length=200)
        created_at = BigIntegerField()

        class Meta:
            table_name = "project_owner"

    class Project(Base):
        id = CharField(primary_key=True, max_length=32)
        owner = ForeignKeyField(ProjectOwner, on_delete="RESTRICT")
        name = CharField(max_length=200)
        starts_on = CharField(max_length=10)
        ends_on = CharField(max_length=10)
        requirements = TextField()
        created_at = BigIntegerField()

        class Meta:
            table_name = "project"
            indexes = ((("owner", "ends_on"), False),)

    class CrewMember(Base):
        id = AutoField()
        project = ForeignKeyField(Project, on_delete="CASCADE")
        position = IntegerField()
        line = IntegerField(null=True)
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

    class WebhookSubscription(Base):
        id = CharField(primary_key=True, max_length=32)
        project = ForeignKeyField(Project, on_delete="CASCADE")
        url = CharField(max_length=2000)
        secret = CharField(max_length=100)
        created_at = BigIntegerField()

        class Meta:
            table_name = "webhook_subscription"

    class WebhookMessage(Base):
        id = AutoField()
        message_id = CharField(max_length=40, unique=True)
        subscription = ForeignKeyField(WebhookSubscription, on_delete="CASCADE")
        event_type = CharField(max_length=40)
        body = TextField()
        created_at = BigIntegerField()
        next_attempt_at = BigIntegerField(null=True, index=True)
        attempts = IntegerField(default=0)
        lease_owner = CharField(max_length=40, null=True)
        lease_until = BigIntegerField(null=True)
        delivered_at = BigIntegerField(null=True)
        given_up_at = BigIntegerField(null=True)
        last_status = IntegerField(null=True)
        last_error = CharField(max_length=200, null=True)

        class Meta:
            table_name = "webhook_message"

    class ExpiryNotice(Base):
        project = ForeignKeyField(Project, on_delete="CASCADE")
        agency_id = CharField(max_length=40)
        number = CharField(max_length=40)
        at = BigIntegerField()

        class Meta:
            table_name = "expiry_notice"
            primary_key = CompositeKey("project", "agency_id", "number")

    return [ProjectOwner, Project, CrewMember, WebhookSubscription, WebhookMessage, ExpiryNotice]
