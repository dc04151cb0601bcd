"""Citizens' reports (全民城管, like a 12345 complaint): anyone reports a problem with its type,
district, place and up to three photos, and gets a tracking code to follow the case it opens.

The REPORTED event carries codes only (source `citizen-report`, the violation type, the district);
the typed address, the coordinates and the optional phone number are sealed beside the case like
party data, never in a leaf. The photos are checked to decode before anything is written, then
registered as the case's evidence with custody like any other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from evidence.meta import UploadMeta
from ledger.errors import InvalidInput
from ledger.events import format_time
from ledger.lifecycle import CODE
from ledger.parties import open_record, seal_record
from ledger.storage import LogTransaction
from ledger.users import Action, Actor
from verify_portal.app import statements
from verify_portal.app.models import CitizenReport

if TYPE_CHECKING:  # the wiring passes the services in: importing it would put this above it
    from verify_portal.app.services import Services

MAX_ADDRESS = 200
_CODE = re.compile(CODE)
_PHONE = re.compile(r"^\+?[0-9][0-9 -]{4,19}$")


@dataclass(frozen=True)
class Report:
    """What a citizen sends: codes for the log, the rest for the sealed row."""

    violation_type: str
    district: str
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    phone: str = ""


@dataclass(frozen=True)
class Tracking:
    """What the citizen keeps: the case number and the code that opens it on the check page."""

    case_no: str
    code: str


def check(report: Report, photos: list[bytes]) -> None:
    """Raise InvalidInput (with a `field` the page shows it beside) unless the report may go in."""
    if not _CODE.match(report.violation_type):
        raise InvalidInput("choose the kind of problem", field="violation_type")
    if not _CODE.match(report.district):
        raise InvalidInput("choose the district", field="district")
    if len(report.address) > MAX_ADDRESS:
        raise InvalidInput("an address has at most 200 characters", field="address")
    if report.latitude is not None and report.longitude is not None:
        if not (-90 <= report.latitude <= 90 and -180 <= report.longitude <= 180):
            raise InvalidInput("the coordinates are out of range", field="address")
    elif not report.address.strip():
        raise InvalidInput("say where: an address, or your location", field="address")
    if report.phone and not _PHONE.match(report.phone):
        raise InvalidInput("a phone number has digits only", field="phone")
    if len(photos) > statements.MAX_PHOTOS or any(
        len(p) > statements.MAX_PHOTO_BYTES for p in photos
    ):
        raise InvalidInput("at most 3 photos of 5 MB each", field="photos")
    for photo in photos:
        try:
            statements.check_photo(photo)
        except InvalidInput as exc:
            raise InvalidInput(exc.message, field="photos") from None


def submit(services: Services, report: Report, photos: list[bytes]) -> Tracking:
    """Open the REPORTED case, seal the details beside it, register the photos, and issue the
    tracking code; nothing is written unless every part was checked first."""
    check(report, photos)
    actor = statements.portal_actor(services.sessions)
    codes = {
        "source": "citizen-report",
        "violation_type": report.violation_type,
        "district": report.district,
    }
    details = {
        "address": report.address.strip(),
        "latitude": report.latitude,
        "longitude": report.longitude,
        "phone": report.phone,
    }
    now = datetime.now(UTC)

    def work(tx: LogTransaction) -> dict[str, Any]:
        # The case and its sealed details in one transaction: never a case without its place.
        opened = services.cases.create_in(tx, actor, codes)
        nonce, sealed = seal_record(services.cases.party_secrets, details, opened["case_no"])
        tx.session.add(
            CitizenReport(case_no=opened["case_no"], nonce=nonce, ciphertext=sealed, created_at=now)
        )
        return opened

    case_no: str = services.cases.write(actor, None, work)["case_no"]
    meta = UploadMeta(case_no=case_no, captured_at=now, captured_text=format_time(now))
    for photo in photos:
        services.evidence.ingest(actor, meta, [photo], len(photo))
    return Tracking(case_no, services.citizens.issue(actor, case_no))


def details(services: Services, actor: Actor, case_no: str) -> dict[str, Any] | None:
    """The reporter's address, place and phone, for the staff who may read the case's statements;
    None when the case did not come from a citizen's report."""
    actor.require(Action.READ_STATEMENTS)
    with services.sessions() as session:
        services.cases.visible_case(session, actor, case_no)
        row = session.get(CitizenReport, case_no)
        if row is None:
            return None
        return open_record(services.cases.party_secrets, row.nonce, row.ciphertext, case_no)
