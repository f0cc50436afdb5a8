"""Browsers a console user has signed in from: OWASP's "device cookies", against lock-outs.

Failed sign-ins count per account, whatever the client, so that a guesser gains nothing from many
addresses; but then anyone who knows a username could keep that account locked. So a browser that
signed in gets a cookie naming it as a device of that user, and its attempts at that user's
account are refused only once the device's own failures reach the limit: strangers failing at the
account do not lock that user out of their own browser. The device's failures still count
against the account as well, so a stolen device cookie adds no attempts (and the password and
code are still needed). The cookie carries a random id; the table only its SHA-256 (as for
sessions) and the user. A device unused for :data:`KEEP_SECONDS` is forgotten, and so is every
device of a user who is reset or disabled.
"""

from __future__ import annotations

from verifier.core.crew.calendar import DAY
from verifier.store.models import StaffDevice, StaffUser
from verifier.store.staff_sessions import hash_id, new_id

#: A device not used to sign in for this long is forgotten; its cookie lives as long.
KEEP_SECONDS = 180 * DAY
#: What the sign-in limit counts a known device's failures under (``+`` its id hash).
LIMIT_KEY_PREFIX = "device:"


def remember(user_id: int, *, now: int) -> str:
    """A new device of the user; the id for its cookie (only its hash is stored)."""
    raw_id = new_id()
    StaffDevice.create(id_hash=hash_id(raw_id), user=user_id, created_at=now, last_used_at=now)
    return raw_id


def username_of(raw_id: str, *, now: int) -> str | None:
    """The username this device signed in as, when it is a device remembered and used within
    :data:`KEEP_SECONDS`; None for anything else (also a malformed cookie)."""
    if not 20 <= len(raw_id) <= 100:
        return None
    row = (
        StaffDevice.select(StaffDevice.id_hash, StaffUser.username)
        .join(StaffUser, attr="account")
        .where(
            (StaffDevice.id_hash == hash_id(raw_id))
            & (StaffDevice.last_used_at > now - KEEP_SECONDS)
        )
        .first()
    )
    return None if row is None else str(row.account.username)


def used(raw_id: str, *, now: int) -> None:
    """Note that the device signed in again (it is kept another :data:`KEEP_SECONDS`)."""
    StaffDevice.update(last_used_at=now).where(StaffDevice.id_hash == hash_id(raw_id)).execute()


def limit_key(raw_id: str) -> str:
    """The key the failed sign-ins of this device count under."""
    return LIMIT_KEY_PREFIX + hash_id(raw_id)


def forget_user(user_id: int) -> None:
    """Forget every device of the user (reset, disabled)."""
    StaffDevice.delete().where(StaffDevice.user == user_id).execute()


def prune(now: int) -> int:
    """Forget devices unused for :data:`KEEP_SECONDS`; how many went."""
    return int(StaffDevice.delete().where(StaffDevice.last_used_at <= now - KEEP_SECONDS).execute())
