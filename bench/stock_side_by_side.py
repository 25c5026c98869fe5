"""Side by side with stock Flask-Admin (issue 25 §5): the same pages of the same database,
served by Parcours and by plain Flask-Admin ``ModelView``s, measured interleaved in one run.

The stock application is a bare Flask app on the same database (same engine, same demo):
one ``flask_admin.contrib.sqla.ModelView`` per list, with our views' columns, search
columns, default order, page size and filters (our enum filters become the stock enum
filters of the same column; our « to do » filters have no stock twin and are left out),
Flask-Admin's own templates in French (Flask-Babel), no login, no role, no audit trail,
no security headers.
Parcours runs as in production (CSRF on) behind its login, as the coordinator.

Each page is requested alternately from both (ours then stock, stock then ours, …) so that
both see the same machine; per request it records the wall time and the CPU time of this
process (on SQLite the database works in this process too, so CPU time is the whole cost
and the figure a busy machine disturbs least). The ratio is ours / stock (target ≤ 1.0).

Usage::

    nice .venv/bin/python bench/stock_side_by_side.py --beneficiaries 10000 --repeat 15 \\
        --output /tmp/side-by-side.md
    # PostgreSQL (the CPU ratio then leaves out the server's share: read the wall ratio)
    bash .ci/postgres.sh .venv/bin/python bench/stock_side_by_side.py --db env ...
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    COORDINATOR,
    database_url,
    ensure_demo,
    logged_in_client,
    make_app,
)
from flask import Flask  # noqa: E402
from flask_admin import Admin  # noqa: E402
from flask_admin.contrib.sqla import ModelView  # noqa: E402
from flask_admin.contrib.sqla.filters import FilterEqual  # noqa: E402
from flask_admin.theme import Bootstrap4Theme  # noqa: E402
from flask_babel import Babel  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from backoffice.admin.fields import EnumIsFilter  # noqa: E402
from backoffice.extensions import db  # noqa: E402
from backoffice.models import Beneficiary, Contact, Enrolment, Referral  # noqa: E402

#: Our list views compared, by endpoint, with the filter each case applies (column, value).
LISTS = {
    "beneficiaries": (Beneficiary, "commune", None),
    "referrals": (Referral, "status", "PENDING"),
    "enrolments": (Enrolment, "status", "ACTIVE"),
    "contacts": (Contact, "attendance", "UNEXCUSED"),
}
ATTRIBUTES = ("column_list", "column_searchable_list", "column_default_sort",
              "column_sortable_list", "page_size")


def our_view(app, endpoint: str):
    return next(v for v in app.extensions["admin"][0]._views
                if getattr(v, "endpoint", None) == endpoint)


def stock_filters(view) -> list:
    """Our view's filters as stock Flask-Admin declares them: column names."""
    names = []
    for flt in type(view).column_filters or ():
        if isinstance(flt, str):
            names.append(flt)
        elif isinstance(flt, EnumIsFilter):  # its « is not » twin comes with it in stock
            names.append(flt.column.key)
    return names


def stock_app(url: str, ours) -> Flask:
    """A bare Flask app with plain ModelViews of the same models on the same database."""
    app = Flask("stock", root_path=str(Path(__file__).resolve().parent / "stock-templates"))
    app.config.update(SQLALCHEMY_DATABASE_URI=url, SECRET_KEY="stock")
    db.init_app(app)
    Babel(app, locale_selector=lambda: "fr")  # Flask-Admin's French, as ours
    admin = Admin(app, name="Stock", url="/admin", theme=Bootstrap4Theme())
    for endpoint, (model, _column, _value) in LISTS.items():
        view = our_view(ours, endpoint)
        attrs = {name: getattr(type(view), name) for name in ATTRIBUTES
                 if isinstance(getattr(type(view), name, None), (list, tuple, int))}
        attrs.update(column_filters=stock_filters(view), can_view_details=True)
        stock_class = type(f"Stock{model.__name__}View", (ModelView,), attrs)
        admin.add_view(stock_class(model, db, name=endpoint, endpoint=endpoint,
                                   url=endpoint))
    return app


def filter_arg(app, admin_index: int, endpoint: str, column: str) -> str:
    """``flt0_N`` of the « equals » filter of ``column``."""
    with app.test_request_context():
        view = next(v for v in app.extensions["admin"][admin_index]._views
                    if getattr(v, "endpoint", None) == endpoint)
        for index, flt in enumerate(view._filters):
            key = getattr(getattr(flt, "column", None), "key", None)
            if key == column and isinstance(flt, FilterEqual):
                return f"flt0_{view.get_filter_arg(index, flt)}"
    raise LookupError(f"{endpoint}: no « equals » filter on {column}")


def cases(ours, stock) -> list[tuple[str, str, str]]:
    """(label, our url, stock url) of the pages compared."""
    with ours.app_context():
        s = db.session
        common_name = s.scalar(select(Beneficiary.last_name).group_by(Beneficiary.last_name)
                               .order_by(func.count().desc(), Beneficiary.last_name).limit(1))
        commune = s.scalar(select(Beneficiary.commune).group_by(Beneficiary.commune)
                           .order_by(func.count().desc(), Beneficiary.commune).limit(1))
        totals = {model: s.scalar(select(func.count(model.id)))
                  for model, _c, _v in LISTS.values()}
        person, path = s.execute(
            select(Enrolment.beneficiary_id, Enrolment.id)
            .join(Contact, Contact.enrolment_id == Enrolment.id)
            .group_by(Enrolment.beneficiary_id, Enrolment.id)
            .order_by(func.count().desc()).limit(1)).one()
        s.remove()
    found = [("empty logged-in page (ours: « Mon compte »; stock: its index)",
              "/admin/account/", "/admin/")]
    search = urlencode({"search": common_name})
    for endpoint, (model, column, value) in LISTS.items():
        value = value or commune
        ours_flt = filter_arg(ours, 0, endpoint, column)
        stock_flt = filter_arg(stock, 0, endpoint, column)
        base = f"/admin/{endpoint}/"
        deep = int(totals[model] / 20 * 0.8)
        found += [
            (f"{endpoint}: first page", base, base),
            (f"{endpoint}: search « {common_name} »", f"{base}?{search}", f"{base}?{search}"),
            (f"{endpoint}: filter {column} = {value}", f"{base}?{urlencode({ours_flt: value})}",
             f"{base}?{urlencode({stock_flt: value})}"),
            (f"{endpoint}: page {deep}", f"{base}?page={deep}", f"{base}?page={deep}"),
        ]
    found += [
        ("beneficiary details", f"/admin/beneficiaries/details/?id={person}",
         f"/admin/beneficiaries/details/?id={person}"),
        ("path details", f"/admin/enrolments/details/?id={path}",
         f"/admin/enrolments/details/?id={path}"),
    ]
    return found


def timed(client, url: str) -> tuple[float, float]:
    """(wall ms, CPU ms) of one request, which must answer 200."""
    wall, cpu = time.perf_counter(), time.process_time()
    response = client.get(url)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    assert response.status_code == 200, f"{url}: HTTP {response.status_code}"
    return wall * 1000, cpu * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--beneficiaries", type=int, default=10000)
    parser.add_argument("--db", choices=("sqlite", "env"), default="sqlite")
    parser.add_argument("--database-url", help="another database than bench/common.py's")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    url = args.database_url or database_url(args.beneficiaries, args.db)
    ours = make_app(url)
    ensure_demo(ours, args.beneficiaries)
    stock = stock_app(url, ours)
    our_client, stock_client = logged_in_client(ours, COORDINATOR), stock.test_client()
    rows = []
    for label, our_url, stock_url in cases(ours, stock):
        for _ in range(2):  # warm-up: templates compiled, caches filled
            timed(our_client, our_url), timed(stock_client, stock_url)
        mine, theirs = [], []
        for attempt in range(args.repeat):
            pair = ((our_client, our_url, mine), (stock_client, stock_url, theirs))
            for client, page, into in (pair if attempt % 2 == 0 else pair[::-1]):
                into.append(timed(client, page))
        wall = [statistics.median(t[0] for t in runs) for runs in (mine, theirs)]
        cpu = [statistics.median(t[1] for t in runs) for runs in (mine, theirs)]
        rows.append((label, our_url, wall, cpu))
        print(f"{label:60} ours {wall[0]:7.1f} / {cpu[0]:7.1f} ms  stock {wall[1]:7.1f} / "
              f"{cpu[1]:7.1f} ms  ratio (CPU) {cpu[0] / cpu[1]:5.2f}", flush=True)
    lines = [
        f"Side by side with stock Flask-Admin, {args.beneficiaries} people, "
        f"{url.split(':')[0].split('+')[0]}, median of "
        f"{args.repeat} interleaved requests each (wall ms / CPU ms of the process).",
        "",
        "| page | ours (wall / CPU ms) | stock (wall / CPU ms) | ratio wall | ratio CPU |",
        "| --- | --- | --- | --- | --- |",
    ]
    for label, _url, wall, cpu in rows:
        lines.append(f"| {label} | {wall[0]:.1f} / {cpu[0]:.1f} | {wall[1]:.1f} / {cpu[1]:.1f}"
                     f" | {wall[0] / wall[1]:.2f} | {cpu[0] / cpu[1]:.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.output:
        args.output.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
