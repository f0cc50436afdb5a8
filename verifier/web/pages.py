"""Pages for people: the QR landing page, the manual check form, the privacy notice.

Every word on these pages is in ``templates/`` behind gettext (catalogs in
``verifier/translations``); the views only verify and pick what to show.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request
from flask.blueprints import BlueprintSetupState
from flask_babel import get_locale
from werkzeug.routing import PathConverter

from verifier.config import RateLimit
from verifier.core.messages import DEFAULT_LANGUAGE
from verifier.core.nik import holds_nik_like
from verifier.issuance import cohort_file
from verifier.printing.spreadsheet import excel_csv
from verifier.store import records, registry
from verifier.store.db import storage_errors
from verifier.web import limits
from verifier.web.database import reconnecting
from verifier.web.i18n import asked_language
from verifier.web.page_model import verdict_view
from verifier.web.requests import attachment
from verifier.web.state import current_state

bp = Blueprint("pages", __name__)


class _PayloadConverter(PathConverter):
    """Werkzeug's ``path``, except that a line break does not end it: text from a damaged or
    hand-typed QR must still get its (malformed) verdict page, never a 404."""

    regex = "(?s:[^/].*?)"


@bp.record_once
def _register_converter(state: BlueprintSetupState) -> None:
    # Recorded before the routes below, which compile against the app's converters.
    state.app.url_map.converters.setdefault("payload", _PayloadConverter)


#: The manual-check form's fields.
CHECK_FIELDS = ("agency", "number", "name")


@bp.app_context_processor
def _page_context() -> dict[str, Any]:
    """What base.html needs on every page, error pages included."""
    asked = asked_language()
    state = current_state()
    return {
        "page_lang": str(get_locale() or DEFAULT_LANGUAGE),
        # Internal links keep a language the checker chose explicitly; otherwise the
        # browser's Accept-Language keeps deciding.
        "lang_query": f"?lang={asked}" if asked else "",
        "is_demo": state.is_demo,
        "official_domain": state.official_domain,
    }


@bp.get("/")
def home() -> str:
    """What this service is and how to check a certificate."""
    return render_template("home.html")


@bp.get("/v/<payload:payload>")
@bp.get("/V/<payload:payload>")
@limits.limited(RateLimit.VERIFY)
@reconnecting
@storage_errors()
def verify(payload: str) -> str:
    """The page a certificate's QR opens: the verdict, and what to do about it."""
    result = current_state().verifier.verify(payload)
    return render_template("verify.html", view=verdict_view(result))


@bp.get("/cek")
@storage_errors()
def manual_check_form() -> str:
    """The manual check form, for a damaged QR or a paper certificate."""
    return _check_page(form={})


@bp.post("/cek")
@reconnecting
@storage_errors()
def manual_check() -> tuple[str, int] | str:
    """Show a status only when agency, number and holder name all match a credential issued here.

    Any mismatch gives one neutral answer, the same whether the number exists or not, so the
    form cannot be used to harvest names by trying numbers. Misses (an incomplete form too)
    count against the strict per-client limit, matches against a generous one
    (:func:`verifier.web.limits.count_manual_checks`).
    """
    limits.manual_checks_open()
    form = {key: request.form.get(key, "") for key in CHECK_FIELDS}
    if not all(value.strip() for value in form.values()):
        limits.count_manual_checks(matched=0, missed=1)
        return _check_page(form=form, outcome="incomplete"), 400
    token = records.matching_token(form["agency"], form["number"], form["name"])
    limits.count_manual_checks(matched=int(token is not None), missed=int(token is None))
    if token is None:
        return _check_page(form=form, outcome="no_match")
    view = verdict_view(current_state().verifier.verify(token))
    return _check_page(form=form, outcome="match", view=view)


def _check_page(form: dict[str, str], outcome: str | None = None, **extra: Any) -> str:
    agencies = sorted(registry.list_agencies(), key=lambda agency: agency.name.casefold())
    # A NIK typed into a box is not filled back in: a NIK is never echoed (SPEC §7).
    shown = {key: "" if holds_nik_like(value) else value for key, value in form.items()}
    return render_template("check.html", agencies=agencies, form=shown, outcome=outcome, **extra)


@bp.get("/templates/cohort.csv")
def cohort_template() -> Response:
    """An empty participant list with every cohort column (README "Cohort files"), as Excel in
    Indonesian opens it; public, holding no personal data."""
    return attachment(
        excel_csv(cohort_file.TEMPLATE_HEADER, cohort_file.TEMPLATE_ROWS),
        "text/csv",
        "daftar-peserta.csv",
    )


@bp.get("/privasi")
@bp.get("/privacy")
def privacy() -> str:
    """The privacy notice (UU 27/2022): what is processed, why, for how long, whom to ask."""
    # Without SKK_PRIVACY_CONTACT the page still names the issuing agencies as contacts.
    return render_template("privacy.html", contact=current_state().settings.privacy_contact)
