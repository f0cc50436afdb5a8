"""The ``Idempotency-Key`` request header on the issuing routes (IETF httpapi draft "The
Idempotency-Key HTTP Header Field"): a retried request never issues twice.

* No header: the request runs as it always did.
* The key is a Structured Fields string (RFC 8941), ``Idempotency-Key: "8e03978e-..."``; a bare
  value of token characters (``Idempotency-Key: 8e03978e-...``) is accepted too, as clients
  often send it unquoted. 1 to :data:`MAX_KEY_LENGTH` characters; anything else is a 400.
* First use of a key: the request runs; its answer (any status below 500 except 409 and 429)
  is stored with the key for at least 24 hours (:mod:`verifier.store.idempotency`). An answer
  that reports a write is stored in the transaction of that write, so a key whose claim has no
  answer proves that nothing was committed. A 5xx, a 409 (a conflict, which wrote nothing and
  says to run it again), a 429 or a crash before the commit releases the key, so that the
  retry runs.
* Same key and same request again: the stored answer, same status and body, with
  ``Idempotent-Replayed: true``. Same key, different request: 422. While the first request is
  still running: 409 with ``Retry-After``.

Keys belong to the agency (every API key of it), so an API key rotated between an attempt
and its retry still finds the first answer, and two agencies never share or see each
other's keys.
The fingerprint of a request is an HMAC (keyed with the NIK pepper: bodies hold NIKs) of the
method, the path and what the view names as the request's content.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable

from flask import Response, request

from verifier.core.errors import SkkError, StorageUnavailable
from verifier.store import idempotency
from verifier.store.db import STORAGE_FAILURES
from verifier.web.database import drop_connection
from verifier.web.problems import problem, problem_from, status_for
from verifier.web.requests import InvalidBody
from verifier.web.state import current_state

log = logging.getLogger(__name__)
HEADER = "Idempotency-Key"
#: The header that marks an answer as the stored answer of an earlier request.
REPLAYED_HEADER = "Idempotent-Replayed"
#: The key column's size (verifier/store/models.py).
MAX_KEY_LENGTH = 255
#: Seconds a client is asked to wait before retrying a key whose first request still runs.
IN_FLIGHT_RETRY_AFTER = 2
# RFC 8941 §3.3.3 sf-string: printable ASCII, with \" and \\ the only escapes.
_LENGTH = f"{{1,{MAX_KEY_LENGTH}}}"
_SF_STRING = re.compile(r'"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])' + _LENGTH + ')"')
# RFC 8941 §3.3.4 token characters (tchar, ":" and "/"), any of them first: lenient.
_BARE_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z:/-]" + _LENGTH)
#: What the header may hold, as the OpenAPI document states it.
KEY_PATTERN = f"^({_SF_STRING.pattern}|{_BARE_TOKEN.pattern})$"
_UNESCAPE = re.compile(r"\\([\"\\])")
_BAD_KEY = (
    f"{HEADER} must be a quoted string (RFC 8941) or a bare token of 1 to "
    f"{MAX_KEY_LENGTH} printable characters"
)
#: A database that does not answer, however it says so.
_DATABASE_FAILURES: tuple[type[Exception], ...] = (StorageUnavailable, *STORAGE_FAILURES)
#: Answers never stored: the retry of a request refused for the moment must run (a 429; a 409,
#: whose message says to run it again, and which wrote nothing).
_NOT_STORED = frozenset({409, 429})


#: What a view calls with its answer, inside the transaction that does what the answer says.
Keep = Callable[[Response], None]


class ClaimLost(Exception):
    """The key's claim was taken over (its lease ran out) or answered meanwhile: the work must
    roll back, for what it did belongs to another request now. Deliberately not a Conflict,
    which the issuing service answers by drawing another number."""


def answer_once(scope: str, content: bytes, run: Callable[[Keep], Response]) -> Response:
    """``run(keep)``'s answer, or the answer already given to this key's first request.

    ``scope`` names who owns the keys (:func:`agency_scope`), ``content`` is what makes two
    requests the same (the body as sent, or the uploaded file's bytes for a multipart form
    whose boundary changes per send). A view whose answer follows a write calls ``keep(answer)``
    inside the transaction of that write: the answer is stored with what it reports or not at
    all, so an unanswered claim proves that nothing was committed. Without a header ``keep``
    does nothing.
    """
    key = request_key()
    if key is None:
        return run(lambda response: None)
    fingerprint = _fingerprint(content)
    now = int(time.time())
    found = idempotency.claim(scope, key, fingerprint, now)
    if found is None:
        return _run_and_keep(scope, key, now, run)
    if not hmac.compare_digest(found.fingerprint, fingerprint):
        return problem(
            422,
            f"this {HEADER} was already used for a different request; "
            "send a new request with a new key",
            field=HEADER,
        )
    if found.in_flight or found.response_body is None:
        return _in_flight()
    return _replayed(found.status_code or 200, found.response_body)


def agency_scope(agency_id: str) -> str:
    """The scope of an agency's keys: every API key of the agency shares them, so that a key
    rotated between an attempt and its retry still finds the first answer."""
    return f"agency:{agency_id}"


def request_key() -> str | None:
    """The ``Idempotency-Key`` of this request, unquoted; None without one; 400 if malformed."""
    values = request.headers.getlist(HEADER)
    if not values:
        return None
    if len(values) > 1:
        raise InvalidBody(f"send one {HEADER} header, not {len(values)}", field=HEADER)
    value = values[0].strip(" \t")
    quoted = _SF_STRING.fullmatch(value)
    if quoted is not None:
        return _UNESCAPE.sub(r"\1", quoted.group(1))
    if _BARE_TOKEN.fullmatch(value):
        return value
    raise InvalidBody(_BAD_KEY, field=HEADER)


def _fingerprint(content: bytes) -> str:
    # Keyed: a body may hold a NIK, and a plain digest of a NIK's few possible values could be
    # reversed by anyone who reads the table. Without a pepper no NIK can be issued at all.
    pepper = (current_state().settings.nik_pepper or "").encode()
    digest = hmac.new(pepper, b"skk idempotency\0", hashlib.sha256)
    for part in (request.method.encode(), request.path.encode()):
        digest.update(len(part).to_bytes(8, "big") + part)
    digest.update(content)
    return digest.hexdigest()


def _run_and_keep(
    scope: str, key: str, claimed_at: int, run: Callable[[Keep], Response]
) -> Response:
    kept: list[Response] = []

    def keep(response: Response) -> None:
        if not idempotency.finish(
            scope, key, claimed_at, response.status_code, _envelope(response)
        ):
            raise ClaimLost(key)
        kept.append(response)

    try:
        response = run(keep)
    except ClaimLost:
        # Rolled back, nothing done: the request that holds the key now answers the retry.
        return _in_flight()
    except SkkError as error:
        if not _kept(status_for(error)):
            _release(scope, key, claimed_at)
            raise
        response = problem_from(error)  # a refusal (4xx) is the answer a retry gets too
    except BaseException:
        # Releases only an unanswered claim: after a committed write its answer is stored.
        _release(scope, key, claimed_at)
        raise
    if kept:
        return response
    if not _kept(response.status_code):
        _release(scope, key, claimed_at)
    elif response.status_code >= 400:
        _keep_refusal(scope, key, claimed_at, response)
    # A success that was not kept (no view answers so) leaves the claim to lapse after its
    # lease rather than risk a second write on the retry.
    return response


def _keep_refusal(scope: str, key: str, claimed_at: int, response: Response) -> None:
    """Store a refusal, which wrote nothing; if the database fails now the refusal is still
    the answer, and the claim lapses after idempotency.IN_FLIGHT_LEASE_SECONDS."""
    try:
        idempotency.finish(scope, key, claimed_at, response.status_code, _envelope(response))
    except _DATABASE_FAILURES as exc:
        log.warning("idempotency refusal not stored: %s", type(exc).__name__)
        drop_connection()  # broken: the next request on this worker must reconnect


def _in_flight() -> Response:
    response = problem(
        409,
        f"a request with this {HEADER} is still being processed; retry shortly for its answer",
        field=HEADER,
    )
    response.headers["Retry-After"] = str(IN_FLIGHT_RETRY_AFTER)
    return response


def _kept(status: int) -> bool:
    return status < 500 and status not in _NOT_STORED


def _release(scope: str, key: str, claimed_at: int) -> None:
    # The request already failed; a database that fails again must not hide why. The claim
    # then lapses after idempotency.IN_FLIGHT_LEASE_SECONDS.
    with contextlib.suppress(*_DATABASE_FAILURES):
        idempotency.release(scope, key, claimed_at)


def _envelope(response: Response) -> str:
    """The stored answer: its body, content type and the headers a replay must repeat."""
    kept: dict[str, str] = {
        "content_type": response.content_type or "",
        "body": response.get_data(as_text=True),
    }
    if response.headers.get("Location"):
        kept["location"] = response.headers["Location"]
    return json.dumps(kept)


def _replayed(status: int, envelope: str) -> Response:
    kept = json.loads(envelope)
    response = Response(kept["body"], status=status, content_type=kept["content_type"])
    if "location" in kept:
        response.headers["Location"] = kept["location"]
    response.headers[REPLAYED_HEADER] = "true"
    return response
