"""The staff case list (/staff/cases): search, filter, sort, page through every case a user may
see, and take the same list away as CSV. An officer sees their own district only."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, request, stream_with_context, url_for
from flask.typing import ResponseReturnValue

from ledger.errors import Forbidden, InvalidInput
from ledger.events import BEIJING
from ledger.lifecycle import State
from ledger.users import Action, Actor
from verify_portal.app import case_list
from verify_portal.web.auth import PUBLIC, access
from verify_portal.web.context import current
from verify_portal.web.i18n import language
from verify_portal.web.labels import LABELS
from verify_portal.web.pages.forms import page, signed_in

bp = Blueprint("staff_cases", __name__, url_prefix="/staff")


@bp.get("/cases")
@access(PUBLIC)  # the session decides: see signed_in
@signed_in
def index(actor: Actor) -> ResponseReturnValue:
    """One page of the filtered list, with totals and links to the other pages."""
    if not actor.may(Action.READ_CASE):
        return page("staff_denied.html", status=403, user=actor)
    args = _args()
    try:
        wanted = case_list.CaseFilter.parse(args)
    except InvalidInput as exc:
        return _page(actor, args, None, status=400, error=exc.message)
    return _page(actor, args, case_list.search(current(), actor, wanted))


@bp.get("/cases.csv")
@access(PUBLIC)
@signed_in
def as_csv(actor: Actor) -> ResponseReturnValue:
    """The whole filtered list (every page) as CSV, UTF-8 with a BOM so that spreadsheets read
    the Chinese right."""
    try:
        wanted = case_list.CaseFilter.parse(_args())
        rows = case_list.rows_for_csv(current(), actor, wanted)
        header = next(rows)  # checks the permission now, before the response starts
    except Forbidden:
        return page("staff_denied.html", status=403, user=actor)
    except InvalidInput as exc:
        return _page(actor, _args(), None, status=400, error=exc.message)
    stamp = datetime.now(BEIJING).strftime("%Y%m%d-%H%M")
    return Response(
        stream_with_context(_csv_lines(header, rows)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="cases-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/search")
@access(PUBLIC)
@signed_in
def search(actor: Actor) -> ResponseReturnValue:
    """A search box's target elsewhere: the list with the same question."""
    query = urlencode(list(request.args.items(multi=True)))
    return redirect(url_for("staff_cases.index") + (f"?{query}" if query else ""), code=303)


def _csv_lines(header: list[str], rows: Iterator[list[str]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    yield "\ufeff" + buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        yield buffer.getvalue()


def _args() -> dict[str, object]:
    """The query string, `state` as a list (it may repeat), every other name once."""
    args: dict[str, object] = {k: v for k, v in request.args.items() if k != "state"}
    args["state"] = request.args.getlist("state")
    return args


def _page(
    actor: Actor,
    args: dict[str, object],
    found: case_list.CasePage | None,
    status: int = 200,
    error: str | None = None,
) -> ResponseReturnValue:
    def link(**changes: object) -> str:
        merged = {**args, **changes}
        kept = {k: v for k, v in merged.items() if v not in ("", [], None)}
        return "?" + urlencode(kept, doseq=True)

    return page(
        "staff_cases.html",
        status=status,
        user=actor,
        args=args,
        found=found,
        error=error,
        link=link,
        states=[s.value for s in State],
        violation_types=sorted(LABELS["violation_type"]),
        sorts=case_list.SORTS,
        page_sizes=case_list.PAGE_SIZES,
        csv_url=url_for("staff_cases.as_csv") + link(lang=language(), page=None),
    )
