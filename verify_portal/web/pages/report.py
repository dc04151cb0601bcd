"""The public report page (/report, 全民城管): anyone reports a problem and gets a tracking code
for the check page. Rate-limited per client (verify_portal/web/limits.py)."""

from __future__ import annotations

import math

from flask import Blueprint, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from ledger.errors import InvalidInput
from ledger.models import Case
from verify_portal.app import citizen_reports, statements
from verify_portal.web.auth import PUBLIC, access
from verify_portal.web.context import current
from verify_portal.web.labels import LABELS
from verify_portal.web.pages.forms import check_csrf, page

bp = Blueprint("report", __name__, url_prefix="/report")
FIELD_WORDS = {  # the refusal's field, as the page's words beside it
    "violation_type": "report_error_type",
    "district": "report_error_district",
    "address": "report_error_address",
    "phone": "report_error_phone",
    "photos": "report_error_photos",
}


@bp.get("")
@access(PUBLIC)
def form() -> ResponseReturnValue:
    return _form()


@bp.post("")
@access(PUBLIC)
def submit() -> ResponseReturnValue:
    """Open a REPORTED case from the form; the page then shows the tracking code once."""
    request.max_content_length = statements.PHOTO_FORM_BYTES  # set before the form is parsed
    check_csrf()
    typed = {k: request.form.get(k, "")[:400] for k in FIELDS}
    photos = [f.read() for f in request.files.getlist("photos") if f.filename]
    try:
        report = citizen_reports.Report(
            violation_type=typed["violation_type"],
            district=typed["district"],
            address=typed["address"],
            latitude=_coordinate(typed["latitude"]),
            longitude=_coordinate(typed["longitude"]),
            phone=typed["phone"].strip(),
        )
        tracking = citizen_reports.submit(current(), report, photos)
    except InvalidInput as exc:
        field = str(exc.details.get("field", "address"))
        return _form(400, typed=typed, error_field=field, error=FIELD_WORDS.get(field))
    return page(
        "report_done.html", tracking=tracking, link=f"/check#{tracking.case_no}:{tracking.code}"
    )


FIELDS = ("violation_type", "district", "address", "latitude", "longitude", "phone")


def _coordinate(typed: str) -> float | None:
    if not typed.strip():
        return None
    try:
        value = float(typed)
    except ValueError:
        raise InvalidInput("coordinates are numbers", field="address") from None
    if not math.isfinite(value):
        raise InvalidInput("coordinates are numbers", field="address")
    return value


def _form(status: int = 200, **context: object) -> ResponseReturnValue:
    with current().sessions() as session:
        districts = sorted(session.scalars(select(Case.district).distinct()).all())
    return page(
        "report.html",
        status=status,
        violation_types=sorted(LABELS["violation_type"]),
        districts=districts,
        **context,
    )
