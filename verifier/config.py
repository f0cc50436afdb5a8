"""Settings: documented defaults plus ``SKK_*`` environment variables, converted once.

Nothing here reads the environment at import time; callers pass a mapping (``os.environ`` by
default) to :func:`load_settings`, so tests build settings from plain dicts.
"""

from __future__ import annotations

import ipaddress
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from urllib.parse import unquote_plus, urlsplit

from limits import RateLimitItem, parse_many

from verifier.core.errors import ConfigurationError

#: The ``verifier`` package folder: templates, static files, translations and data ship in it.
PACKAGE_DIR = Path(__file__).resolve().parent


def _project_root() -> Path:
    """The checkout when run from one; installed from a wheel, ``<prefix>/var/skk-verifier``.

    The second is where Flask puts an installed package's instance folder, so a wheel never
    writes its database or keys into site-packages.
    """
    checkout = PACKAGE_DIR.parent
    if (checkout / "pyproject.toml").is_file():
        return checkout
    return Path(sys.prefix) / "var" / "skk-verifier"


#: Where ``keys/`` and ``instance/`` hang off by default (the checkout, or the install's var/).
PROJECT_ROOT = _project_root()
#: Flask's instance folder convention; the default SQLite file lives here.
INSTANCE_DIR = PROJECT_ROOT / "instance"

DEFAULT_DATABASE_URL = "sqlite:///skk.sqlite3"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_LEEWAY_SECONDS = 60
MAX_LEEWAY_SECONDS = 60
MAX_PROXY_HOPS = 10
#: How long a signed offline trust bundle stays fresh (docs/offline.md): 7 days.
DEFAULT_OFFLINE_MAX_AGE = 7 * 86_400
#: Bounds of SKK_OFFLINE_MAX_AGE: 10 seconds (tests) to 90 days.
MIN_OFFLINE_MAX_AGE, MAX_OFFLINE_MAX_AGE = 10, 90 * 86_400


class RateLimit(StrEnum):
    """The per-client rate limits; each is set by ``SKK_RATELIMIT_<NAME>``."""

    VERIFY = "verify"  # POST /api/v1/verify and the /v/ pages
    NIK_MATCH = "nik-match"  # verify requests that ask about a NIK
    # POST /cek and crew rows given by number: those that find nothing (misses) and those
    # that find the certificate (matches), counted apart (verifier.web.limits.count_manual_checks).
    MANUAL_CHECK = "manual-check"
    MANUAL_CHECK_MATCH = "manual-check-match"
    FAILED_AUTH = "failed-auth"  # agency API requests refused with 401
    CONSOLE_LOGIN_ACCOUNT = "console-login-account"  # failed console sign-ins per account
    CONSOLE_LOGIN_CLIENT = "console-login-client"  # failed console sign-ins per client

    @property
    def variable(self) -> str:
        """The environment variable that sets this limit."""
        return "SKK_RATELIMIT_" + self.name


#: Per client address, in the ``limits`` notation (``"10 per minute;50 per day"``). Verify is
#: generous: one mobile carrier's NAT puts many honest site checkers behind one address. NIK
#: questions are also stopped per credential in the database (verifier.store.nik_match).
#: Manual checks count by outcome: a miss (nothing found: how guessing looks) against the strict
#: limit, a found certificate against a much higher one, so a site office behind one NAT can
#: check a whole crew while guessing stays as slow as before (verifier.web.limits).
DEFAULT_RATE_LIMITS: Mapping[RateLimit, str] = MappingProxyType(
    {
        RateLimit.VERIFY: "300 per minute",
        RateLimit.NIK_MATCH: "60 per hour",
        RateLimit.MANUAL_CHECK: "10 per minute;50 per day",
        RateLimit.MANUAL_CHECK_MATCH: "60 per minute;300 per day",
        RateLimit.FAILED_AUTH: "20 per minute",
        # Failed console sign-ins: per account (whoever tries it, from anywhere) and per client.
        RateLimit.CONSOLE_LOGIN_ACCOUNT: "5 per 15 minutes",
        RateLimit.CONSOLE_LOGIN_CLIENT: "20 per 15 minutes",
    }
)

RateLimits = Mapping[RateLimit, tuple[RateLimitItem, ...]]


def _default_rate_limits() -> RateLimits:
    return _rate_limits({})


@dataclass(frozen=True)
class Settings:
    """Typed, validated configuration of one process."""

    #: Peewee ``db_url``; relative SQLite paths are already resolved against the instance folder.
    database_url: str = f"sqlite:///{INSTANCE_DIR / 'skk.sqlite3'}"
    #: Folder of encrypted private keys (``<kid>.pem``, mode 0600).
    keys_dir: Path = PROJECT_ROOT / "keys"
    #: Passphrase of the private key files; None on hosts that only verify.
    key_passphrase: str | None = field(default=None, repr=False)
    #: Secret for NIK HMACs; None means NIKs cannot be accepted.
    nik_pepper: str | None = field(default=None, repr=False)
    #: Prefix of the URLs QR codes carry, without a trailing slash.
    base_url: str = DEFAULT_BASE_URL
    #: Clock-skew allowance in seconds (0-60) for rules 5 and 9.
    leeway_seconds: int = DEFAULT_LEEWAY_SECONDS
    #: Whom people contact about their data (UU 27/2022), shown on the privacy notice.
    privacy_contact: str | None = None
    #: Reverse proxies in front whose X-Forwarded-* headers are trusted (0-10).
    proxy_hops: int = 0
    #: Each per-client rate limit, parsed: one or more windows (``10 per minute;50 per day``).
    rate_limits: RateLimits = field(default_factory=_default_rate_limits)
    #: Where every rate-limit counter lives (``redis://...``); None: each worker's memory, and
    #: the database for the NIK limit, which all workers must share.
    rate_limit_storage_uri: str | None = None
    #: Seconds a signed offline trust bundle stays fresh; past it, offline checks say stale_data.
    offline_max_age: int = DEFAULT_OFFLINE_MAX_AGE
    #: Production hosts set SKK_REQUIRE_DATABASE_URL=1: without SKK_DATABASE_URL, every command
    #: and the web app then refuse to start instead of using the development SQLite file.
    require_database_url: bool = False


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build :class:`Settings` from ``SKK_*`` variables; bad values raise ConfigurationError."""
    env = os.environ if environ is None else environ
    require_database_url = _flag(env, "SKK_REQUIRE_DATABASE_URL")
    given_url = env.get("SKK_DATABASE_URL")
    if given_url is not None and not given_url.strip():
        # Set but blank is a mistake (an env file's line lost its value), never a request
        # for the default: falling back would put this host silently on the SQLite file.
        raise ConfigurationError(
            "SKK_DATABASE_URL is set but empty; give a database URL, or unset it to use the "
            "development SQLite default"
        )
    if require_database_url and given_url is None:
        raise ConfigurationError(
            "SKK_DATABASE_URL is not set, and SKK_REQUIRE_DATABASE_URL refuses the default "
            f"database {redacted_url(_database_url(DEFAULT_DATABASE_URL))}; set SKK_DATABASE_URL "
            "(in an env file read with `. FILE`, quote a value holding `&`)"
        )
    return Settings(
        database_url=_database_url(given_url or DEFAULT_DATABASE_URL),
        keys_dir=_resolve(env.get("SKK_KEYS_DIR", "keys"), PROJECT_ROOT),
        key_passphrase=env.get("SKK_KEY_PASSPHRASE") or None,
        nik_pepper=env.get("SKK_NIK_PEPPER") or None,
        base_url=_base_url(env.get("SKK_BASE_URL", DEFAULT_BASE_URL)),
        leeway_seconds=_bounded(
            env, "SKK_LEEWAY_SECONDS", DEFAULT_LEEWAY_SECONDS, MAX_LEEWAY_SECONDS
        ),
        privacy_contact=env.get("SKK_PRIVACY_CONTACT", "").strip() or None,
        proxy_hops=_bounded(env, "SKK_PROXY_HOPS", 0, MAX_PROXY_HOPS),
        rate_limits=_rate_limits(env),
        rate_limit_storage_uri=env.get("SKK_RATELIMIT_STORAGE_URI", "").strip() or None,
        offline_max_age=_bounded(
            env,
            "SKK_OFFLINE_MAX_AGE",
            DEFAULT_OFFLINE_MAX_AGE,
            MAX_OFFLINE_MAX_AGE,
            lowest=MIN_OFFLINE_MAX_AGE,
        ),
        require_database_url=require_database_url,
    )


#: Query parameters of a database URL that hold a secret (libpq's names), never printed.
_SECRET_URL_PARAMETERS = frozenset({"password", "sslpassword"})


def redacted_url(url: str) -> str:
    """``url`` without its password (in the user part or a ``password=`` parameter): the form a
    command or log may show to name the database it uses."""
    try:
        parts = urlsplit(_without_user_secret(url))
    except ValueError:  # e.g. an unclosed IPv6 bracket: show no more than the scheme
        return url.partition("://")[0] + "://…"
    netloc = parts.netloc
    query = "&".join(item for item in parts.query.split("&") if item and not _secret(item))
    # Put together by hand: urlunsplit would drop the empty host of sqlite:////path.
    return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")


def _without_user_secret(url: str) -> str:
    """``url`` with everything between ``scheme://`` and its last ``@`` cut but the user name.

    Done on the raw text, before any URL parsing: a password holding ``/``, ``?`` or ``#``
    ends a parser's netloc early, so that the rest of the password would pass for the host,
    path or query. An ``@`` further right (in the query) only makes this cut more than needed,
    which is the safe side.
    """
    scheme, separator, rest = url.partition("://")
    # rest starting with "/": no host part, so no user either (a SQLite path may hold "@").
    if not separator or "@" not in rest or rest.startswith("/"):
        return url
    user_part, _, after = rest.rpartition("@")
    # A user name ends at ":" (the password follows); the others cannot be in one unencoded.
    name = re.split(r"[:@/?#]", user_part, maxsplit=1)[0]
    return f"{scheme}://{name}@{after}" if name else f"{scheme}://{after}"


def _secret(parameter: str) -> bool:
    """True for a ``name=value`` query item naming a password (percent-encoded or not)."""
    name = unquote_plus(parameter.partition("=")[0]).strip().lower()
    return name in _SECRET_URL_PARAMETERS


def _rate_limits(env: Mapping[str, str]) -> RateLimits:
    """Every limit from its variable or its default; ConfigurationError naming a bad one."""
    parsed = {}
    for limit, default in DEFAULT_RATE_LIMITS.items():
        text = env.get(limit.variable, default)
        try:
            parsed[limit] = tuple(parse_many(text))
        except ValueError:
            raise ConfigurationError(f"{limit.variable}: not a rate limit: {text!r}") from None
    return MappingProxyType(parsed)


def _resolve(value: str, base: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _database_url(url: str) -> str:
    """Resolve a relative SQLite file against the instance folder, never the working directory."""
    url = url.strip()
    if "://" not in url:
        # Not echoed: a value without "scheme://" may still hold a password.
        raise ConfigurationError(
            "SKK_DATABASE_URL is not a database URL: it lacks the scheme:// start "
            "(postgresql://... or sqlite:///...)"
        )
    scheme, rest = url.split("://", 1)
    if scheme.startswith("sqlite") and rest.startswith("/") and not rest.startswith("//"):
        path = rest[1:]
        if path and path != ":memory:" and not Path(path).is_absolute():
            return f"{scheme}:///{INSTANCE_DIR / path}"
    return url


def is_loopback_host(host: str | None) -> bool:
    """True for localhost and loopback addresses: the only hosts allowed a plain-http base URL."""
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _base_url(url: str) -> str:
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"SKK_BASE_URL must be an http(s) URL with a host, not {url!r}")
    if parts.query or parts.fragment:
        raise ConfigurationError("SKK_BASE_URL must not carry a query or fragment")
    # A demo or development instance runs on loopback; anything a phone opens must be https.
    if parts.scheme != "https" and not is_loopback_host(parts.hostname):
        raise ConfigurationError("SKK_BASE_URL must use https outside a local demo")
    return url


def _flag(env: Mapping[str, str], name: str) -> bool:
    """A yes/no variable: 1/true/yes or 0/false/no (any case; unset or empty is no)."""
    raw = env.get(name, "")
    value = raw.strip().lower()
    if value in ("1", "true", "yes"):
        return True
    if value in ("", "0", "false", "no"):
        return False
    raise ConfigurationError(f"{name} must be 1 or 0 (true/false, yes/no), not {raw!r}")


def _bounded(env: Mapping[str, str], name: str, default: int, highest: int, lowest: int = 0) -> int:
    """A whole number from ``lowest`` to ``highest``; ConfigurationError naming the variable."""
    raw = env.get(name, str(default))
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, not {raw!r}") from None
    if not lowest <= value <= highest:
        raise ConfigurationError(f"{name} must be between {lowest} and {highest}")
    return value
