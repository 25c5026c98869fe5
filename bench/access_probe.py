"""Access and audit probe (issue 18 §1, §2, §8): attacks a small demo (40 people) through
the test client and prints the cases tried and failed per category, the figures of
docs/security.md. A case fails when the application does what it must not:

- §1 every page, search, record, export and lookup answered to financeur@demo.fr (the
  DEL's representative) is read for the demo's names and birth dates, and its lists for
  other funders' programmes;
- §2 a counsellor posts another person's referral and an order they may not read in their
  path's form, searches staff by e-mail, creates records on another's path;
- §8 refused reads, refused saves, reads of nominative lists and lookups must reach the
  audit trail; a failed audit write must fail the request; a referent of open paths must
  not be deleted; 200 forged anonymous posts must not write 200 entries.

Usage (a few seconds, SQLite in a temporary folder)::

    env PARCOURS_ENV=testing .venv/bin/python bench/access_probe.py [-v]
"""
import sys
import tempfile
from datetime import date
from pathlib import Path

sys.path.insert(0, ".")
from sqlalchemy import func, select  # noqa: E402

from backoffice import create_app  # noqa: E402
from backoffice.audit import spool  # noqa: E402
from backoffice.enums import EnrolmentStatus  # noqa: E402
from backoffice.extensions import db  # noqa: E402
from backoffice.models import (  # noqa: E402
    AuditEntry,
    Beneficiary,
    Enrolment,
    Funder,
    Programme,
    PurchaseOrder,
    Referral,
    User,
)
from backoffice.seeding.demo import DEMO_PASSWORD, build_demo  # noqa: E402

tmp = Path(tempfile.mkdtemp())
app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp/'p.db'}",
                  "SECRET_KEY": "x", "WTF_CSRF_ENABLED": False})
with app.app_context():
    db.create_all()
    build_demo(db.session, beneficiaries=40, seed=3, today=date(2025, 11, 20))
    db.session.commit()
    people = db.session.scalars(select(Beneficiary)).all()
    needles = set()
    for p in people:
        needles.add(p.full_name)
        needles.add(f"{p.birth_date:%d/%m/%Y}")
        needles.add(p.birth_date.isoformat())
    mine = db.session.scalars(select(Enrolment).where(
        Enrolment.status == EnrolmentStatus.ACTIVE, Enrolment.referent_id.is_not(None),
        Enrolment.programme_id.in_(select(PurchaseOrder.programme_id)))).first()
    cid = mine.referent_id
    cemail = db.session.get(User, cid).email
    other = db.session.scalars(select(Enrolment).where(Enrolment.referent_id != cid,
        Enrolment.beneficiary_id.not_in(select(Enrolment.beneficiary_id).where(
            Enrolment.referent_id == cid)))).first()
    other_ref = db.session.scalars(select(Referral).where(
        Referral.beneficiary_id.not_in(select(Enrolment.beneficiary_id).where(
            Enrolment.referent_id == cid)))).first()
    order_other = db.session.scalars(select(PurchaseOrder).where(
        PurchaseOrder.programme_id == mine.programme_id,
        PurchaseOrder.id != func.coalesce(mine.purchase_order_id, 0))).first()
    mine_id, other_id, other_ref_id, order_id = mine.id, other.id, other_ref.id, order_other.id
    mine_person, mine_prog = mine.beneficiary_id, mine.programme_id
    mine_entry = mine.entry_date
    other_person_name = other_ref.beneficiary.last_name.upper()
    del_funder = db.session.scalar(select(Funder.id).where(Funder.code == "DEL"))
    views = [v for v in app.extensions["admin"][0]._views if hasattr(v, "area")]
    ids = {v.endpoint: db.session.scalars(select(v.model.id).limit(15)).all() for v in views}
    ajax = {v.endpoint: list(getattr(v, "_form_ajax_refs", {}) or {}) for v in views}
    non_del = [c for c in db.session.scalars(select(Programme.code).join(Funder)
                                             .where(Funder.code != "DEL"))]

results = {}


def case(cat, failed):
    t, f = results.get(cat, (0, 0))
    results[cat] = (t + 1, f + int(bool(failed)))


def login(email):
    c = app.test_client()
    r = c.post("/login", data={"email": email, "password": DEMO_PASSWORD})
    assert r.status_code == 302, email
    return c


def leaks(text):
    return [n for n in needles if n in text]


# --- 1. viewer sees no personal data -----------------------------------------------
v = login("financeur@demo.fr")
urls = []
for view in views:
    ep = view.endpoint
    base = f"/admin/{view.url.rsplit('/', 1)[-1]}/"
    urls += [base, base + "?search=a", base + "export/csv/"]
    urls += [f"{base}details/?id={i}" for i in ids[ep]]
    urls += [f"{base}ajax/lookup/?name={n}&query=" for n in ajax[ep]]
    urls += [f"{base}ajax/lookup/?name={n}&query=a" for n in ajax[ep]]
urls += ["/admin/", "/admin/indicators/", "/admin/alerts/"]
viewer_pages = 0
for url in urls:
    r = v.get(url)
    if r.status_code == 200:
        viewer_pages += 1
        found = leaks(r.get_data(as_text=True))
        if found and "-v" in sys.argv:
            print("LEAK", url, found[:2])
        case("§1 financeur : aucune page avec nom ou date de naissance", found)
# funder scope
for url in ["/admin/programmes/", "/admin/sessions/", "/admin/purchase-orders/",
            "/admin/commissions/", "/admin/workshops/", "/admin/indicators/",
            "/admin/programmes/?page_size=100"]:
    r = v.get(url)
    text = r.get_data(as_text=True) if r.status_code == 200 else ""
    bad = [code for code in non_del
           if any(mark in text for mark in (f">{code}<", f"{code} —", f"programme={code}",
                                            f'value="{code}"'))]
    if bad and "-v" in sys.argv:
        print("FUNDER", url, bad)
    case("§1 financeur DEL : aucun dispositif d'un autre financeur", bad)
r = v.get("/admin/indicators/telecharger/?report=csp-monthly&programme=CSP"
          "&date_from=2025-01-01&date_to=2025-12-31")
case("§1 financeur DEL : aucun dispositif d'un autre financeur", r.status_code == 200)

# --- 2. counsellor learns nothing outside their paths -------------------------------
c = login(cemail)
with app.app_context():
    before = db.session.get(Enrolment, mine_id)
    base_form = {"beneficiary": str(mine_person), "programme": str(mine_prog),
                 "entry_date": mine_entry.isoformat(), "referent": str(cid),
                 "version_seen": str(before.version)}
    keep_ref = before.referral_id
    keep_po = before.purchase_order_id
r = c.post(f"/admin/enrolments/edit/?id={mine_id}",
           data={**base_form, "referral": str(other_ref_id)}, follow_redirects=True)
text = r.get_data(as_text=True)
case("§2 référent : prescription d'autrui refusée sans nommer", other_person_name in text)
with app.app_context():
    case("§2 référent : prescription d'autrui non enregistrée",
         db.session.get(Enrolment, mine_id).referral_id != keep_ref)
    db.session.remove()
with app.app_context():
    base_form["version_seen"] = str(db.session.get(Enrolment, mine_id).version)
r = c.post(f"/admin/enrolments/edit/?id={mine_id}",
           data={**base_form, "purchase_order": str(order_id)}, follow_redirects=True)
with app.app_context():
    case("§2 référent : bon de commande illisible non enregistré",
         db.session.get(Enrolment, mine_id).purchase_order_id != keep_po)
for slug, field in (("contacts", "enrolment"), ("barriers", "enrolment"),
                    ("internships", "enrolment")):
    r = c.post(f"/admin/{slug}/new/", data={field: str(other_id)})
    case("§2 référent : parcours d'autrui refusé à la création", r.status_code == 302)
for name, q in (("referent", "@demo"), ("referral", ""), ("purchase_order", ""),
                ("beneficiary", "")):
    r = c.get(f"/admin/enrolments/ajax/lookup/?name={name}&query={q}")
    data = r.get_json() if r.status_code == 200 else []
    if "-v" in sys.argv:
        print("LOOKUP", name, data[:3])
    if name == "referent":
        case("§2 référent : e-mails du personnel introuvables", len(data) > 0)
    else:
        case("§2 référent : recherches limitées à ses parcours",
             any(other_person_name in str(d) for d in data)
             or (name != "beneficiary" and len(data) > 1))
r = c.get("/admin/contacts/ajax/lookup/?name=staff&query=@demo")
case("§2 référent : e-mails du personnel introuvables", len(r.get_json() or []) > 0)
r = c.get(f"/admin/enrolments/details/?id={other_id}")
case("§2 référent : fiche d'autrui en 404", r.status_code != 404)

# --- 8. audit ----------------------------------------------------------------------


def audit_count():
    """Entries in the trail, once the spool is drained as a server does after sending each
    response (the test client here leaves responses open; audit/spool.py)."""
    with app.app_context():
        spool.drain(app, wait=True)
        return db.session.scalar(select(func.count(AuditEntry.id)))


n = audit_count()
c.get(f"/admin/enrolments/details/?id={other_id}")
case("§8 audit : lecture refusée (404) tracée", audit_count() == n)
n = audit_count()
c.post("/admin/contacts/new/", data={"enrolment": str(other_id)})
case("§8 audit : formulaire refusé tracé", audit_count() == n)
co = login("coordination@demo.fr")
for url in ("/admin/beneficiaries/", "/admin/enrolments/", "/admin/purchase-order-lines/",
            "/admin/contacts/", "/admin/referrals/",
            "/admin/purchase-order-lines/ajax/lookup/?name=beneficiary&query=a",
            "/admin/referrals/ajax/lookup/?name=beneficiary&query=a"):
    n = audit_count()
    co.get(url)
    case("§8 audit : lecture de liste ou recherche nominative tracée", audit_count() == n)
# failed audit write: the spool cannot be appended (a full disk)
real = spool.append


def broken(*a, **k):
    raise RuntimeError("disque plein")


spool.append = broken
try:
    r = co.get(f"/admin/beneficiaries/details/?id={mine_person}")
    case("§8 audit : écriture impossible, demande refusée", r.status_code == 200)
except Exception:
    case("§8 audit : écriture impossible, demande refusée", False)
finally:
    spool.append = real
# delete a referent of open paths
a = login("admin@demo.fr")
a.post("/admin/users/delete/", data={"id": str(cid)})
with app.app_context():
    case("§8 audit : référent de parcours ouverts non supprimé", db.session.get(User, cid) is None)
# anonymous flood
app.config["WTF_CSRF_ENABLED"] = True
n = audit_count()
anon = app.test_client()
for _ in range(200):
    anon.post("/login", data={"email": "x@y.fr", "password": "z"})
written = audit_count() - n
case("§8 audit : 200 envois anonymes, au plus 30 entrées", written > 30)
print(f"(anonymes : {written} entrées pour 200 envois falsifiés ; "
      f"pages servies au financeur : {viewer_pages})")

for cat, (t, f) in sorted(results.items()):
    print(f"{cat} : {t} essayés, {f} en échec")
