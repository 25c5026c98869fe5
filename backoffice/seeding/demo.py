"""A realistic, deterministic demo dataset (`flask seed demo`).

`build_demo(session, beneficiaries, seed, today)` creates fictional people on the eight
programmes, from the referral to the exit and the follow-up in employment, plus one demo
account per role. Everything random comes from `random.Random(seed)` and every date is
computed from `today`: the same seed and the same `today` give the same rows.

Speed matters (100 000 people must take minutes): rows are built as plain dicts with their
primary keys chosen here (after the current maximum id), then inserted per table with
`session.execute(insert(Model.__table__), rows)` (one executemany in the session's
transaction; the ORM form `insert(Model)` does the same twice as slowly), a chunk of people
at a time, parents first. On PostgreSQL the id sequences are moved past the demo's ids.
Bulk inserts bypass the ORM, so `Beneficiary.name_key` and `Enrolment.version` are set
here. No obligation (the deadline engine creates them) and no audit entry is written;
once the engine has run, `settle_past_obligations` marks the past deliverables done as a
service that keeps up would have (`flask seed demo` does both). No contact or workshop is
dated today or later: an attendance mark is a fact of the past.

The demo is built once: when its accounts already exist, `build_demo` adds nothing and
says so. The word lists (names, communes, texts) are in `seeds/demo/`.
"""
from __future__ import annotations

import gc
import math
import random
import time
import unicodedata
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime

import yaml
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    Table,
    func,
    select,
    text,
    update,
)
from werkzeug.security import generate_password_hash

from ..enums import (
    Answer,
    Attendance,
    BilanKind,
    ContractKind,
    DelCategory,
    EducationLevel,
    EnrolmentStatus,
    LabourMarketStatus,
    ReferralStatus,
    Role,
    Sex,
)
from ..models import (
    Barrier,
    BarrierType,
    Beneficiary,
    Commission,
    Contact,
    ContactType,
    Enrolment,
    EsfEntry,
    EsfExit,
    ExitType,
    Funder,
    Internship,
    Obligation,
    Phase,
    PhaseRecord,
    Programme,
    ProgrammeSession,
    PurchaseOrder,
    PurchaseOrderLine,
    Referral,
    Suspension,
    SuspensionReason,
    User,
    Workshop,
    WorkshopAttendance,
    name_key,
    referral_non_entry_barriers,
    search_index,
    search_key,
    sheet_flag,
)
from ..models.bulk import insert_many
from ..rules.calendar import (
    add_months,
    add_working_days,
    last_day_of_months,
    next_working_day,
    planned_end_date,
)
from ..rules.exits import ExitFacts, ExitTypeRule, classify_exit
from .reference import DEFAULT_SEEDS_DIR, load_reference

#: Password of every demo account (the accounts exist only once the demo is seeded).
DEMO_PASSWORD = "demo-parcours-2026"

#: Demo accounts other than the counsellors: (e-mail, name, role).
DEMO_ACCOUNTS = (
    ("admin@demo.fr", "Alice Administratrice (démo)", Role.ADMIN),
    ("coordination@demo.fr", "Corentin Coordinateur (démo)", Role.COORDINATOR),
    ("commission@demo.fr", "Camille Commission (démo)", Role.COMMISSION),
    ("financeur@demo.fr", "Fabienne Financeur (démo)", Role.VIEWER),
)
#: First counsellor; the others are referent2@demo.fr, referent3@demo.fr…
REFERENT_EMAIL = "referent@demo.fr"

DEMO_INPUT_DIR = DEFAULT_SEEDS_DIR / "demo"

#: Share of the people per programme (DEL-L2 and PLIE-L4 are small by specification).
PROGRAMME_WEIGHTS = {
    "DEL-L1": 20, "DEL-L2": 3, "ARJLJ": 12, "CSP": 30,
    "PLIE-L1": 14, "PLIE-L2": 8, "PLIE-L3": 7, "PLIE-L4": 6,
}
#: Referrals are spread over this many days before `today`.
HISTORY_DAYS = 730
#: People generated and inserted per round (keeps memory flat for 100 000 people).
CHUNK_SIZE = 2000
#: People per transaction when the caller commits as it goes (``flask seed demo``). Not
#: every round: on SQLite each commit writes every page it changed twice (its log, then
#: the file), and 2 000 people change pages all over each index: 83 GB written in the
#: first 10 minutes of a million (docs/benchmarks.md, « Demo generator »).
COMMIT_EVERY = 100_000
#: About one counsellor per this many people.
PEOPLE_PER_COUNSELLOR = 60

# Issue 20 §8: the deliverables of a service that keeps up (settle_past_obligations).
#: Share of the past deliverables sent late, and by how many days (a realistic delay).
LATE_SHARE = 0.08
LATE_DAYS = (1, 12)
#: Only a deliverable due in the last this many days may still be open…
OPEN_WITHIN_DAYS = 42
#: …with this probability, and between these many per counsellor (and as many for the
#: deliverables no counsellor follows: orders, sessions, reports): a day's work.
OPEN_SHARE = 0.8
OPEN_PER_OWNER = (3, 8)
#: A deliverable sent on time is sent at most this many days before it is due.
EARLY_DAYS = 10

# Referral outcomes of programmes with a commission or a CSP pré-bilan (share in %).
REFERRAL_STATUS_WEIGHTS = (
    (ReferralStatus.VALIDATED, 78), (ReferralStatus.REJECTED, 5),
    (ReferralStatus.DEFERRED, 5), (ReferralStatus.WITHDRAWN, 5),
    (ReferralStatus.NOT_ENTERED, 7),
)

# Scenarios given to the first people of a programme, so that even a small demo shows
# every status and every kind of exit: (programme, scenario, referral days before today).
FORCED_SCENARIOS = (
    ("DEL-L1", "ED", 560), ("DEL-L1", "SD", 520), ("DEL-L1", "SP", 500),
    ("DEL-L1", "ED_follow_up", 290), ("DEL-L1", "abandon", 300),
    ("DEL-L1", "running", 90), ("DEL-L1", "suspended", 110),
    ("DEL-L2", "ED_follow_up", 290),
    ("CSP", "positive", 600), ("CSP", "not_positive", 500),
    ("CSP", "positive_follow_up", 200), ("CSP", "abandon", 300),
    ("CSP", "suspended", 150), ("CSP", "running", 60),
    ("PLIE-L1", "loss_of_contact", 200), ("PLIE-L1", "end_of_action", 500),
    ("PLIE-L1", "running_absences", 60),
)
# Referral statuses given to the first referrals (any programme with referrals): every
# status shows up even in a small demo, and the commission has at least two referrals
# waiting for its decision (what it validates in bulk).
FORCED_STATUSES = (
    ReferralStatus.PENDING, ReferralStatus.PENDING, ReferralStatus.REJECTED,
    ReferralStatus.DEFERRED,
    ReferralStatus.WITHDRAWN, ReferralStatus.NOT_ENTERED,
)

# Workshops per programme: (joins per person min, max, default group min, max, minutes).
WORKSHOP_PLAN = {
    "DEL-L1": (0, 2, 3, 10, 180), "DEL-L2": (0, 2, 2, 6, 180),
    "CSP": (0, 2, 6, 12, 180), "PLIE-L1": (1, 3, 4, 7, 180), "PLIE-L2": (2, 5, 8, 12, 120),
}
# Individual contacts per path (min, max) and the mix of contact types.
CONTACTS_PER_PATH = {
    "DEL-L1": (3, 6), "DEL-L2": (4, 7), "ARJLJ": (1, 2), "CSP": (4, 10),
    "PLIE-L1": (4, 5), "PLIE-L2": (2, 4), "PLIE-L3": (3, 5), "PLIE-L4": (4, 7),
}
CONTACT_MIX = {
    "DEL": (("individual", 60), ("phone", 25), ("email", 10), ("company_visit", 5)),
    "CSP": (("individual", 45), ("phone", 30), ("email", 15), ("group_session", 10)),
    "ARJLJ": (("individual", 80), ("phone", 20)),
    "PLIE": (("individual", 75), ("phone", 20), ("email", 5)),
}
BARRIER_WEIGHTS = {
    "housing": 12, "health": 10, "mobility": 14, "childcare": 7, "finances": 10,
    "admin_rights": 9, "basic_skills": 6, "digital": 8, "justice": 2, "disability": 3,
    "isolation": 6, "self_confidence": 9, "addiction": 2, "other": 2,
}
EDUCATION_WEIGHTS = {
    "DEL": ((EducationLevel.NONE, 40), (EducationLevel.LEVEL_3, 32), (EducationLevel.LEVEL_4, 20),
            (EducationLevel.LEVEL_5, 6), (EducationLevel.LEVEL_6, 2)),
    "FT": ((EducationLevel.NONE, 12), (EducationLevel.LEVEL_3, 30), (EducationLevel.LEVEL_4, 28),
           (EducationLevel.LEVEL_5, 16), (EducationLevel.LEVEL_6, 9), (EducationLevel.LEVEL_7, 5)),
    "PLIE": ((EducationLevel.NONE, 35), (EducationLevel.LEVEL_3, 33), (EducationLevel.LEVEL_4, 22),
             (EducationLevel.LEVEL_5, 7), (EducationLevel.LEVEL_6, 3)),
}
# ISCED level of each French level (FSE questionnaire, 004 §6)
ISCED = {
    EducationLevel.NONE: 2, EducationLevel.LEVEL_3: 3, EducationLevel.LEVEL_4: 3,
    EducationLevel.LEVEL_5: 5, EducationLevel.LEVEL_6: 6, EducationLevel.LEVEL_7: 7,
    EducationLevel.LEVEL_8: 8,
}


def _fold(text_: str) -> str:
    """ASCII lower-case letters and digits only (for e-mail addresses)."""
    decomposed = unicodedata.normalize("NFKD", text_)
    return "".join(c for c in decomposed if c.isascii() and c.isalnum()).lower()


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, dtime(hour, minute))


def _weekday(day: date) -> date:
    """The day itself, or the Monday after when it falls on a weekend."""
    return day + timedelta(days=(7 - day.weekday()) % 7) if day.weekday() >= 5 else day


def _luhn_complete(digits: str) -> str:
    """Append the Luhn check digit (SIREN / SIRET numbers are Luhn-valid)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return digits + str((10 - total % 10) % 10)


@dataclass
class _ProgrammeInfo:
    """What the generator needs to know about one programme."""

    id: int
    code: str
    funder_code: str
    funder_id: int
    territory: str
    row: Programme
    phases: dict[str, int] = field(default_factory=dict)  # phase code → id

    @property
    def family(self) -> str:
        return {"DEL": "DEL", "FT": "FT", "PLIE": "PLIE"}.get(self.funder_code, "FT")


@dataclass
class _Pool:
    """People waiting to fill one workshop of a programme's session (CSP: quarter)."""

    members: list = field(default_factory=list)  # (enrolment id, join date, staff id, end)
    target: int = 0

    def fits(self, day: date, end: date) -> bool:
        """The workshop is held on the latest join day: it must fall before every member's
        exit (the new one's included), so no one attends after leaving the path."""
        held = max([day, *(m[1] for m in self.members)])
        return held <= min([end, *(m[3] for m in self.members)])


class _DemoBuilder:
    """Generates the demo rows chunk by chunk and inserts them in dependency order."""

    ORDER = (
        User, ProgrammeSession, Beneficiary, Commission, PurchaseOrder, Workshop, Referral,
        referral_non_entry_barriers, PurchaseOrderLine, Enrolment, PhaseRecord, Suspension,
        Contact, WorkshopAttendance, Internship, Barrier, EsfEntry, EsfExit,
    )

    def __init__(self, session, rng: random.Random, today: date):
        self.session = session
        self.rng = rng
        # ESF+ records draw from their own stream: the rest of the demo stays as it was
        self.esf_rng = random.Random(sum(rng.getstate()[1][:8]))
        self.esf_answers: dict[int, dict] = {}  # person id → their ESF+ entry answers
        self.esf_entered: set[int] = set()  # people already entered in the PLIE operation
        self.today = today
        self.rows: dict = defaultdict(list)
        self.counts: dict = defaultdict(int)
        self.next_ids = {
            model: (session.scalar(select(func.max(model.id))) or 0) + 1
            for model in self.ORDER if hasattr(model, "id")
        }
        self._load_inputs()
        self._load_reference()

    # --- inputs -------------------------------------------------------------------------

    def _load_inputs(self) -> None:
        def read(name):
            return yaml.safe_load((DEMO_INPUT_DIR / name).read_text(encoding="utf-8"))

        self.names = read("names.yaml")
        self.places = read("places.yaml")
        self.texts = read("texts.yaml")
        self.used_external_ids = set(self.session.scalars(
            select(Beneficiary.external_id).where(Beneficiary.external_id.is_not(None))
        ))
        self.used_identities = {
            (key, born) for key, born in self.session.execute(
                select(Beneficiary.name_key, Beneficiary.birth_date)
            )
        }

    def _load_reference(self) -> None:
        s = self.session
        funders = {f.id: f for f in s.scalars(select(Funder))}
        self.programmes: dict[str, _ProgrammeInfo] = {}
        for p in s.scalars(select(Programme).order_by(Programme.id)):
            funder = funders[p.funder_id]
            self.programmes[p.code] = _ProgrammeInfo(
                p.id, p.code, funder.code, funder.id, funder.territory.value, p
            )
        for phase in s.scalars(select(Phase).order_by(Phase.programme_id, Phase.position)):
            for info in self.programmes.values():
                if info.id == phase.programme_id:
                    info.phases[phase.code] = phase.id
        missing = [c for c in PROGRAMME_WEIGHTS if c not in self.programmes]
        if missing:
            raise ValueError(
                "Démonstration impossible : dispositifs absents des données de référence : "
                + ", ".join(missing)
            )
        # Ordered queries: the generator must see the rows in the same order every time
        self.contact_types = {c.code: c.id for c in s.scalars(
            select(ContactType).order_by(ContactType.code))}
        self.barrier_types = {b.code: b.id for b in s.scalars(
            select(BarrierType).order_by(BarrierType.code))}
        self.barrier_codes = sorted(self.barrier_types)
        self.suspension_reasons = {r.code: r.id for r in s.scalars(
            select(SuspensionReason).order_by(SuspensionReason.code))}
        self.exit_types = list(s.scalars(select(ExitType).order_by(ExitType.sort_order,
                                                                   ExitType.id)))
        self.exit_by_code = {t.code: t for t in self.exit_types}
        self.exit_by_id = {t.id: t for t in self.exit_types}

    # --- ids and rows -------------------------------------------------------------------

    def _new_id(self, model) -> int:
        value = self.next_ids[model]
        self.next_ids[model] = value + 1
        return value

    def _add(self, model, row: dict) -> dict:
        self.rows[model].append(row)
        self.counts[model] += 1
        return row

    def flush(self) -> None:
        """Insert the buffered rows, parents first, and empty the buffers."""
        for model in self.ORDER:
            rows = self.rows.pop(model, None)
            if rows:
                # Core insert of the mapped table: the same executemany as insert(Model)
                # without the ORM bookkeeping, twice as fast (ids and keys are set here)
                table = model if isinstance(model, Table) else model.__table__
                insert_many(self.session, table, rows)

    # --- small helpers ------------------------------------------------------------------

    def _pick(self, weighted):
        items, weights = zip(*weighted, strict=True)
        return self.rng.choices(items, weights=weights)[0]

    def _between(self, start: date, end: date) -> date:
        if end <= start:
            return start
        return start + timedelta(days=self.rng.randint(0, (end - start).days))

    def _text(self, *path):
        value = self.texts
        for key in path:
            value = value[key]
        return self.rng.choice(value)

    def _person_name(self, family: str) -> str:
        group = self.names["caledonian" if family == "DEL" else "metropolitan"]
        sex = self.rng.choice(("female", "male"))
        return f"{self.rng.choice(group[sex])} {self.rng.choice(group['last'])}"

    # --- users --------------------------------------------------------------------------

    def make_users(self, people: int) -> None:
        """Demo accounts: one per role, and counsellors shared between the three funders."""
        # One hash for every demo account (same password); hashing is deliberately slow.
        password_hash = generate_password_hash(DEMO_PASSWORD)
        created = _at(self.today, 8)

        # financeur@demo.fr represents the DEL: it sees the DEL's programmes only (issue 18 §1)
        del_funder = next(info.funder_id for info in self.programmes.values()
                          if info.funder_code == "DEL")

        def user(email, name, role):
            return self._add(User, {
                "id": self._new_id(User), "email": email, "name": name, "role": role,
                "password_hash": password_hash, "active": True, "created_at": created,
                "last_login_at": None,
                "funder_id": del_funder if role is Role.VIEWER else None,
            })

        self.users = {email: user(email, name, role)["id"]
                      for email, name, role in DEMO_ACCOUNTS}
        self.commission_user = self.users["commission@demo.fr"]
        count = max(4, math.ceil(people / PEOPLE_PER_COUNSELLOR))
        self.counsellors: dict[str, list[tuple[int, str]]] = {"DEL": [], "FT": [], "PLIE": []}
        families = ("DEL", "FT", "PLIE")
        for index in range(count):
            email = REFERENT_EMAIL if index == 0 else f"referent{index + 1}@demo.fr"
            family = families[(index - 1) % 3]
            name = self._person_name(family) + " (démo)"
            uid = user(email, name, Role.COUNSELLOR)["id"]
            # referent@demo.fr follows people of every funder, so its login shows a bit of all
            for fam in (families if index == 0 else (family,)):
                self.counsellors[fam].append((uid, name))
        self.counsellor_count = count

    # --- sessions -----------------------------------------------------------------------

    def make_sessions(self) -> None:
        """Sessions (cohorts) per programme over the demo years (entries au fil de l'eau)."""
        self.sessions: dict[str, list[tuple[date, date, int]]] = defaultdict(list)
        first_year = (self.today - timedelta(days=HISTORY_DAYS + 60)).year
        for year in range(first_year, self.today.year + 1):
            for code in ("DEL-L1", "DEL-L2"):
                months = 7 if code == "DEL-L1" else 8
                for quarter in range(4):
                    start = date(year, 3 * quarter + 1, 1)
                    end = add_months(start, 3 + months + 1)
                    self._session(code, f"{code} — session T{quarter + 1} {year}", start,
                                  end, "Nouméa — locaux du prestataire", None, None, start,
                                  add_months(start, 3) - timedelta(days=1))
            # 004 Lot 1: 3 sessions of 3 workshops; Lot 2: 2 sessions of at least 8
            for index, (m1, m2) in enumerate(((1, 4), (5, 8), (9, 12))):
                start, end = date(year, m1, 1), add_months(date(year, m2, 1), 1) - timedelta(1)
                self._session("PLIE-L1", f"PLIE Lot 1 — session {index + 1} {year}", start,
                              end, "Lunel", None, None, start, end)
            for index, (m1, m2) in enumerate(((1, 6), (7, 12))):
                start, end = date(year, m1, 1), add_months(date(year, m2, 1), 1) - timedelta(1)
                self._session("PLIE-L2", f"PLIE Lot 2 — session {index + 1} {year}", start,
                              end, "Mauguio", 8, None, start, end)
            for code, place in (("PLIE-L3", "Territoire du PLIE"), ("PLIE-L4", "Lunel")):
                start, end = date(year, 1, 1), date(year, 12, 31)
                self._session(code, f"{code} — action {year}", start, end, place, None, None,
                              start, end)

    def _session(self, code, label, start, end, place, min_size, max_size, entry_from,
                 entry_to) -> None:
        sid = self._new_id(ProgrammeSession)
        self._add(ProgrammeSession, {
            "id": sid, "programme_id": self.programmes[code].id, "label": label,
            "starts_on": start, "ends_on": end, "place": place, "min_size": min_size,
            "max_size": max_size, "continuous_entry": True,
        })
        self.sessions[code].append((entry_from, entry_to, sid))

    def _session_for(self, code: str, day: date) -> int | None:
        for start, end, sid in self.sessions.get(code, ()):
            if start <= day <= end:
                return sid
        return None

    # --- beneficiaries ------------------------------------------------------------------

    def _external_id(self, family: str) -> str:
        while True:
            if family == "DEL":  # n° de demandeur d'emploi DEL (format fictif : DEL + 7 chiffres)
                value = f"DEL{self.rng.randint(0, 9_999_999):07d}"
            else:  # identifiant France Travail : 7 chiffres et une lettre
                digits = self.rng.randint(1_000_000, 9_999_999)
                value = f"{digits}{self.rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}"
            if value not in self.used_external_ids:
                self.used_external_ids.add(value)
                return value

    def make_beneficiary(self, info: _ProgrammeInfo, referred_on: date) -> dict:
        rng, family = self.rng, info.family
        caledonian = family == "DEL" and rng.random() < 0.8
        group = self.names["caledonian" if caledonian else "metropolitan"]
        sex = Sex.FEMALE if rng.random() < (0.45 if family == "DEL" else 0.52) else Sex.MALE
        age_range = {"DEL": (18, 55), "FT": (24, 62), "PLIE": (18, 60)}[family]
        if info.code == "PLIE-L4" and rng.random() < 0.5:
            age_range = (18, 25)  # 004 Lot 4: bilans d'orientation for young people
        while True:
            first = rng.choice(group["female" if sex is Sex.FEMALE else "male"])
            last = rng.choice(group["last"])
            age_days = rng.randint(age_range[0] * 365, age_range[1] * 365 + 364)
            born = referred_on - timedelta(days=age_days)
            key = name_key(last, first)
            if (key, born) not in self.used_identities:
                self.used_identities.add((key, born))
                break
        place_list = self.places[{"DEL": "nc_province_sud", "FT": "metropolitan",
                                  "PLIE": "plie"}[family]]
        place = rng.choices(place_list, weights=[p["weight"] for p in place_list])[0]
        streets = self.places["streets"]["nc" if family == "DEL" else "fr"]
        education = self._pick(EDUCATION_WEIGHTS[family])
        if family == "DEL":
            phone = (f"{rng.choice('789')}{rng.randint(0, 9)}.{rng.randint(0, 99):02d}."
                     f"{rng.randint(0, 99):02d}")  # 6 digits in New Caledonia
        else:
            phone = (f"0{rng.choice('67')} {rng.randint(0, 99):02d} {rng.randint(0, 99):02d} "
                     f"{rng.randint(0, 99):02d} {rng.randint(0, 99):02d}")
        plie = family == "PLIE"
        registered = not plie or rng.random() < 0.8  # some PLIE participants are not DE
        disability = info.code == "DEL-L2" or rng.random() < (0.12 if plie else 0.04)
        long_term = rng.random() < (0.5 if plie else 0.35 if family == "DEL" else 0.1)
        bid = self._new_id(Beneficiary)
        created = _at(referred_on, 9)
        row = {
            "id": bid, "last_name": last, "first_name": first, "name_key": name_key(last, first),
            "birth_date": born, "sex": sex,
            "external_id": self._external_id(family) if registered else None,
            "email": (f"{_fold(first)}.{_fold(last)}{bid % 97}@courriel.example"
                      if rng.random() < 0.8 else None),
            "phone": phone,
            "address": f"{rng.randint(1, 120)} {rng.choice(streets)}",
            "postcode": place["postcode"], "commune": place["commune"], "epci": place["epci"],
            "education_level": education,
            "long_term_job_seeker": long_term,
            "rsa_recipient": plie and rng.random() < 0.35,
            "social_minima": plie and rng.random() < 0.2,
            "disability_recognition": disability,
            "experimental_csp_public": info.code == "CSP" and rng.random() < 0.15,
            "notes": None, "created_at": created, "updated_at": created,
        }
        if plie:  # the ESF+ questionnaire's answers, written on the first participation
            yes_no = lambda flag: Answer.YES if flag else Answer.NO  # noqa: E731
            self.esf_answers[bid] = {
                "labour_market_status": (
                    (LabourMarketStatus.LONG_TERM_UNEMPLOYED if long_term
                     else LabourMarketStatus.UNEMPLOYED) if registered
                    else LabourMarketStatus.INACTIVE),
                "isced_level": ISCED[education],
                "household_jobless": yes_no(rng.random() < 0.3),
                "single_parent_household": yes_no(rng.random() < 0.15),
                "disability": yes_no(disability),
                "foreign_background": yes_no(rng.random() < 0.2),
                "homeless_or_housing_exclusion": yes_no(rng.random() < 0.05),
                "rural_area": yes_no(bool(place["rural"])),
            }
        row["search_key"] = search_key(last, first, row["external_id"])  # Core: no validator
        return self._add(Beneficiary, row)

    # --- commissions and orders ---------------------------------------------------------

    def _commission_date(self, code: str, after: date) -> date:
        """DEL commissions every other Thursday; PLIE commissions the 2nd Tuesday of a month."""
        day = after
        if code.startswith("DEL"):
            while not (day.weekday() == 3 and day.isocalendar()[1] % 2 == 0):
                day += timedelta(days=1)
            return day
        while True:
            first = day.replace(day=1)
            second_tuesday = first + timedelta(days=(1 - first.weekday()) % 7 + 7)
            if second_tuesday >= after:
                return second_tuesday
            day = add_months(first, 1)

    def _commission(self, info: _ProgrammeInfo, held_on: date) -> int:
        key = (info.code, held_on)
        if key not in self.commission_ids:
            cid = self._new_id(Commission)
            members = self.texts["commission_members"][info.family]
            self._add(Commission, {
                "id": cid, "programme_id": info.id, "held_on": held_on,
                "members_present": ", ".join(self.rng.sample(members, k=3)),
                "minutes": f"Commission {info.code} du {held_on:%d/%m/%Y} : examen des "
                           "prescriptions, décisions consignées sur chaque prescription.",
            })
            self.commission_ids[key] = cid
        return self.commission_ids[key]

    def _order(self, key, info: _ProgrammeInfo, number: str, issued: date, received: date,
               company: str | None = None, support_start: date | None = None) -> int:
        if key not in self.orders:
            oid = self._new_id(PurchaseOrder)
            self._add(PurchaseOrder, {
                "id": oid, "funder_id": info.funder_id, "programme_id": info.id,
                "number": number, "issued_on": issued, "received_on": received,
                "received_at": _at(received, 10), "beneficiary_count": 0,
                "company_name": company, "support_start_on": support_start,
            })
            self.orders[key] = {"id": oid, "count": 0, "received": received,
                                "support_start": support_start}
        return self.orders[key]["id"]

    def _order_line(self, order_key, beneficiary_id, referral_id, months) -> None:
        order = self.orders[order_key]
        order["count"] += 1
        self._add(PurchaseOrderLine, {
            "id": self._new_id(PurchaseOrderLine), "order_id": order["id"],
            "beneficiary_id": beneficiary_id, "referral_id": referral_id,
            "duration_months": months,
        })

    # --- one person ---------------------------------------------------------------------

    def make_person(self, code: str, scenario: str | None, days_ago: int | None) -> None:
        """A person, their referral and (if they entered) their whole path."""
        info = self.programmes[code]
        rng, today = self.rng, self.today
        forced_status = None
        if code != "ARJLJ" and scenario is None and self.forced_statuses:
            forced_status = self.forced_statuses.pop(0)
        if forced_status is ReferralStatus.PENDING:
            days_ago = rng.randint(0, 1)
        if days_ago is None:
            days_ago = rng.randint(3, HISTORY_DAYS)
        referred_on = today - timedelta(days=days_ago)
        if code == "ARJLJ":
            self._arjlj_person(info, referred_on)
            return
        # A validated referral may replace an earlier withdrawal (désistement, 001)
        replaces = None
        waiting = self.withdrawals.get(code)
        if forced_status is None and scenario is None and waiting and rng.random() < 0.7:
            wid, decided = waiting[0]
            if decided + timedelta(days=30) < today:
                waiting.pop(0)
                replaces = wid
                referred_on = decided + timedelta(days=rng.randint(2, 20))
        person = self.make_beneficiary(info, referred_on)
        if code == "CSP":
            self._csp_referral(info, person, referred_on, scenario, forced_status)
        else:
            self._commission_referral(info, person, referred_on, scenario, forced_status,
                                      replaces)

    def _referral_row(self, info, person, referred_on, status, **extra) -> dict:
        family = info.family
        reason_key = {"DEL": "DEL", "FT": "CSP", "PLIE": "PLIE"}[family]
        row = {
            "id": self._new_id(Referral), "beneficiary_id": person["id"],
            "programme_id": info.id,
            "prescriber_name": self._person_name(family),
            "prescription_place": self._text("prescription_places", family),
            "reason": self._text("referral_reasons", reason_key),
            "referred_on": referred_on, "status": status, "commission_id": None,
            "decided_on": None, "decided_by_id": None, "decision_reason": None,
            "validated_months": None, "replaces_id": None, "non_entry_notes": None,
            "created_at": _at(referred_on, 9, 30),
        }
        row.update(extra)
        return self._add(Referral, row)

    def _status(self, forced_status) -> ReferralStatus:
        return forced_status or self._pick(REFERRAL_STATUS_WEIGHTS)

    def _non_entry_barriers(self, referral_id: int) -> None:
        codes = self.rng.sample(self.barrier_codes, k=self.rng.randint(1, 2))
        for code in sorted(codes):
            self._add(referral_non_entry_barriers,
                      {"referral_id": referral_id, "barrier_type_id": self.barrier_types[code]})

    def _commission_referral(self, info, person, referred_on, scenario, forced_status,
                             replaces) -> None:
        """DEL and PLIE: the commission decides; DEL then sends a purchase order."""
        rng, today = self.rng, self.today
        held_on = self._commission_date(info.code, referred_on + timedelta(days=2))
        status = ReferralStatus.VALIDATED if (scenario or replaces) else self._status(forced_status)
        if held_on > today or status is ReferralStatus.PENDING:
            self._referral_row(info, person, referred_on, ReferralStatus.PENDING)
            return
        commission_id = self._commission(info, held_on)
        months = None
        if info.code == "DEL-L1" and status in (ReferralStatus.VALIDATED,
                                                ReferralStatus.WITHDRAWN,
                                                ReferralStatus.NOT_ENTERED):
            # 001 « Organisation »: the commission sets each DEL-L1 path's length
            months = 7 if scenario else self._pick(((5, 10), (6, 20), (7, 45), (8, 15), (9, 10)))
        decision = {
            ReferralStatus.REJECTED: lambda: self._text("rejection_reasons"),
            ReferralStatus.DEFERRED: lambda: self._text("deferral_reasons"),
            ReferralStatus.WITHDRAWN: lambda: self._text("withdrawal_reasons"),
        }.get(status, lambda: None)()
        referral = self._referral_row(
            info, person, referred_on, status, commission_id=commission_id, decided_on=held_on,
            decided_by_id=self.commission_user, decision_reason=decision,
            validated_months=months, replaces_id=replaces,
        )
        if status is ReferralStatus.WITHDRAWN:
            self.withdrawals[info.code].append((referral["id"], held_on))
        if status is ReferralStatus.NOT_ENTERED:
            referral["non_entry_notes"] = self._text("non_entry_notes")
            self._non_entry_barriers(referral["id"])
        if status is not ReferralStatus.VALIDATED:
            return
        order_id = None
        if info.family == "DEL":
            # 001 « Organisation »: a purchase order after each commission, with durations
            issued = held_on + timedelta(days=rng.randint(2, 6))
            received = issued + timedelta(days=rng.randint(0, 3))
            if received > today:
                return
            key = ("DEL", info.code, held_on)
            year = held_on.year
            self.order_seq[(info.funder_code, year)] += 0 if key in self.orders else 1
            number = f"BC-DEL-{year}-{self.order_seq[(info.funder_code, year)]:04d}"
            order_id = self._order(key, info, number, issued, received)
            self._order_line(key, person["id"], referral["id"], months)
            entry = _weekday(received + timedelta(days=rng.randint(3, 12)))
        else:
            entry = _weekday(held_on + timedelta(days=rng.randint(3, 15)))
        if entry > today:
            return
        self._path(info, person, referral, entry, scenario, order_id=order_id, months=months)

    def _csp_referral(self, info, person, referred_on, scenario, forced_status) -> None:
        """CSP: France Travail refers and orders; the pré-bilan is the entry (002 II §3-4)."""
        rng, today = self.rng, self.today
        # 002 II §3: one purchase order per day of referrals (lines for every person)
        key = ("CSP", referred_on)
        order_id = self._order(key, info, f"BC-FT-CSP-{referred_on:%Y%m%d}", referred_on,
                               referred_on)
        # 002 II §3: pré-bilan within 8 calendar days (a few are late, for the alerts)
        delay = rng.randint(1, 8) if rng.random() < 0.95 else rng.randint(9, 12)
        prebilan = next_working_day(referred_on + timedelta(days=delay), info.territory)
        status = ReferralStatus.VALIDATED if scenario else self._status(forced_status)
        if prebilan > today or status is ReferralStatus.PENDING:
            referral = self._referral_row(info, person, referred_on, ReferralStatus.PENDING)
            self._order_line(key, person["id"], referral["id"], None)
            return
        referent_id, _ = rng.choice(self.counsellors["FT"])
        decision = {
            ReferralStatus.REJECTED: lambda: self._text("csp_refusal_reasons"),
            ReferralStatus.DEFERRED: lambda: "Pré-bilan reporté : indisponibilité de l'adhérent",
            ReferralStatus.WITHDRAWN: lambda: "Désistement : reprise d'emploi avant le pré-bilan",
        }.get(status, lambda: None)()
        referral = self._referral_row(
            info, person, referred_on, status, decided_on=prebilan, decided_by_id=referent_id,
            decision_reason=decision,
        )
        self._order_line(key, person["id"], referral["id"], None)
        if status is ReferralStatus.WITHDRAWN:
            self.withdrawals[info.code].append((referral["id"], prebilan))
        if status is ReferralStatus.NOT_ENTERED:
            referral["non_entry_notes"] = self.texts["csp_absent_note"]
            self._non_entry_barriers(referral["id"])
        if status is ReferralStatus.VALIDATED:
            self._path(info, person, referral, prebilan, scenario, order_id=order_id,
                       referent=referent_id, prebilan=prebilan)

    def _arjlj_person(self, info, referred_on) -> None:
        """ARJLJ: employees of a company in receivership, on the company's order (002 I)."""
        rng, today = self.rng, self.today
        current = self.arjlj_order
        if current is None or current["left"] <= 0:
            issued = referred_on
            received = issued + timedelta(days=rng.randint(0, 2))
            # 002 I §4: start within 2 working days of the order's reception
            start = add_working_days(received, rng.randint(1, 2), info.territory)
            self.order_seq[("ARJLJ", issued.year)] += 1
            number = f"BC-FT-ARJLJ-{issued.year}-{self.order_seq[('ARJLJ', issued.year)]:03d}"
            company = self._text("receivership_companies")
            place = rng.choice(self.places["metropolitan"])["commune"]
            key = ("ARJLJ", number)
            self._order(key, info, number, issued, received, f"{company} — site de {place}",
                        start)
            current = self.arjlj_order = {"key": key, "left": rng.randint(20, 60),
                                          "start": start, "workshop": None, "place": place}
        current["left"] -= 1
        start = current["start"]
        person = self.make_beneficiary(info, start - timedelta(days=3))
        self._order_line(current["key"], person["id"], None, None)
        if start > today:
            return
        self._path(info, person, None, start, None, order_id=self.orders[current["key"]]["id"])

    # --- the path -----------------------------------------------------------------------

    def _path(self, info, person, referral, entry, scenario, *, order_id=None, months=None,
              referent=None, prebilan=None) -> None:
        """The enrolment, its phases, suspensions, contacts, workshops, internships,
        barriers and exit, consistent with `today`."""
        rng, today, code = self.rng, self.today, info.code
        # 002 II §2-3: an adherent's CSP adhesion, signed at France Travail before the
        # orientation (experimental publics do not adhere)
        adhesion = (referral["referred_on"] if code == "CSP" and referral
                    and not person.get("experimental_csp_public") else None)
        if referent is None:
            referent = rng.choice(self.counsellors[info.family])[0]
        # Planned end (002 §3: moved to the next working day)
        if code in ("DEL-L1", "DEL-L2"):
            planned_end = planned_end_date(entry, months=months or info.row.planned_months,
                                           territory=info.territory)
        elif code == "CSP":
            planned_end = planned_end_date(entry, months=info.row.planned_months,
                                           territory=info.territory)
            if adhesion is not None:  # 002 II §3: at the latest at the end of the adhesion
                planned_end = min(planned_end,
                                  last_day_of_months(adhesion, info.row.adhesion_months))
        elif code == "ARJLJ":
            planned_end = planned_end_date(entry, weeks=info.row.max_weeks,
                                           territory=info.territory)
        elif code == "PLIE-L4":
            planned_end = planned_end_date(entry, months=info.row.max_months,
                                           territory=info.territory)
        else:  # 004 §4: the PLIE action runs until 31 December
            planned_end = date(entry.year, 12, 31)
        outcome = self._outcome(info, scenario)
        exit_date = self._exit_date(info, entry, planned_end, outcome, scenario)
        ended = exit_date is not None and exit_date <= today
        end_at = exit_date if ended else today  # last day something can happen on
        enrolment_id = self._new_id(Enrolment)
        row = {
            "id": enrolment_id, "beneficiary_id": person["id"], "programme_id": info.id,
            "referral_id": referral["id"] if referral else None,
            "session_id": self._session_for(code, entry), "purchase_order_id": order_id,
            "referent_id": referent, "entry_date": entry, "planned_end_date": planned_end,
            "status": EnrolmentStatus.ACTIVE, "current_phase_id": None,
            "target_job": None, "rome_code": None, "action_plan_on": None,
            "prebilan_at": _at(prebilan, rng.choice((9, 10, 11, 14, 15))) if prebilan else None,
            "csp_contract_signed_on": prebilan,
            "csp_adhesion_on": adhesion,
            # 002 II §4: the signed copy sent to France Travail within 48 hours
            "csp_contract_sent_at": (_at(prebilan + timedelta(days=rng.choice((0, 1))), 16)
                                     if prebilan else None),
            "engagement_level": None, "soft_skills_level": None, "bilan_kind": None,
            "no_internship_reason": None,
            "exit_date": None, "exit_type_id": None, "contract_kind": None,
            "contract_months": None, "hours_per_month": None, "employer": None,
            "training_title": None, "followup_contract_kind": None,
            "followup_contract_months": None, "exit_reason": None, "goal_attainment": None,
            "satisfaction": None, "difficulties": None, "recommendations": None,
            "follow_up_end_date": None, "employed_at_follow_up_end": None, "closed_on": None,
            "created_at": _at(entry, 9), "updated_at": _at(end_at, 17), "version": 1,
        }
        if code not in ("ARJLJ", "PLIE-L1", "PLIE-L2") and rng.random() < 0.85:
            plan_on = entry + timedelta(days=rng.randint(7, 30))
            if plan_on <= end_at:
                rome, job = rng.choice(self.texts["jobs"])
                row.update(target_job=job, rome_code=rome, action_plan_on=plan_on)
        if info.family == "DEL":
            row["engagement_level"] = rng.randint(1, 4)
            row["soft_skills_level"] = rng.randint(1, 4)
        follow_up_end = None
        if ended:
            follow_up_end = self._apply_exit(info, row, outcome, exit_date)
        phases = self._phases(info, entry, exit_date if ended else None, follow_up_end,
                              planned_end, scenario)
        for phase_code, start, stop, derogation in phases:
            self._add(PhaseRecord, {
                "id": self._new_id(PhaseRecord), "enrolment_id": enrolment_id,
                "phase_id": info.phases[phase_code], "started_on": start, "ended_on": stop,
                "derogation": derogation,
            })
        if phases:
            row["current_phase_id"] = info.phases[phases[-1][0]]
        # Status
        if ended and follow_up_end is not None and follow_up_end > today:
            row["status"] = EnrolmentStatus.FOLLOW_UP
        elif ended:
            row["status"] = EnrolmentStatus.CLOSED
            row["follow_up_end_date"] = follow_up_end
            row["closed_on"] = follow_up_end or exit_date
            if follow_up_end is not None:  # still in employment when the follow-up ended?
                row["employed_at_follow_up_end"] = rng.random() < 0.85
        suspended = self._suspensions(info, person, enrolment_id, entry, end_at, ended, scenario)
        if suspended:
            row["status"] = EnrolmentStatus.SUSPENDED
        self._add(Enrolment, row)
        absences = "two" if outcome == "loss_of_contact" or scenario == "running_absences" else (
            "two" if info.family == "PLIE" and not ended and rng.random() < 0.08 else None)
        self._contacts(info, enrolment_id, person["id"], referent, entry, end_at, absences,
                       prebilan)
        self._workshops(info, enrolment_id, referent, entry, end_at)
        internship = self._internships(info, enrolment_id, entry, phases, end_at)
        self._barriers(info, enrolment_id, entry, end_at)
        # 001 « Description » : a DEL path closed at its end without an internship says why
        exit_type = self.exit_by_id.get(row["exit_type_id"])
        if (info.row.requires_internship and not internship and ended and exit_type
                and not exit_type.is_anticipated and exit_date >= planned_end):
            row["no_internship_reason"] = self._text("no_internship_reasons")
        if info.family == "PLIE":
            self._esf_records(person, enrolment_id, entry, exit_date if ended else None)
        if code == "PLIE-L4":
            # 004 Lot 4: « le bilan d'orientation qui se destine principalement à des jeunes
            # sans expérience professionnelle et le bilan de compétences pour les autres »
            young = (entry - person["birth_date"]).days < 26 * 365
            row["bilan_kind"] = BilanKind.ORIENTATION if young else BilanKind.SKILLS

    def _esf_records(self, person, enrolment_id, entry, exit_date) -> None:
        """The ESF+ entry record of the person's first participation in the PLIE
        operation (a re-entry keeps it; a one-day action is none), and the exit record of
        a path that ended — recorded within the 4 weeks, some not yet (rules/esf.py)."""
        rng, today = self.esf_rng, self.today
        if exit_date is not None and exit_date <= entry:  # one day or less: no participant
            return
        answers = self.esf_answers.get(person["id"])
        if answers is not None and person["id"] not in self.esf_entered:
            self.esf_entered.add(person["id"])
            sensitive = {"third_country_national": Answer.NO, "minority": Answer.NO}
            if rng.random() < 0.06:  # some refuse to answer the sensitive questions
                sensitive = {"third_country_national": Answer.REFUSED,
                             "minority": Answer.REFUSED, "foreign_background": Answer.REFUSED}
            self._add(EsfEntry, {
                "id": self._new_id(EsfEntry), "enrolment_id": enrolment_id,
                "entered_on": entry,
                "recorded_on": min(entry + timedelta(days=rng.randint(0, 12)), today),
                **answers, **sensitive, "version": 1,
            })
        if exit_date is None:
            return
        recorded = exit_date + timedelta(days=rng.randint(2, 30))
        if recorded > today:  # not yet: its deadline shows in the alerts
            return
        employed = rng.random() < 0.3
        self._add(EsfExit, {
            "id": self._new_id(EsfExit), "enrolment_id": enrolment_id, "left_on": exit_date,
            "recorded_on": recorded,
            "in_education_or_training": Answer.YES if rng.random() < 0.15 else Answer.NO,
            "gained_qualification": Answer.YES if rng.random() < 0.1 else Answer.NO,
            "in_employment": Answer.YES if employed else Answer.NO,
            "job_searching": Answer.NO if employed else Answer.YES,
            "six_month_recorded_on": None, "six_month_in_employment": None,
            "six_month_better_situation": None, "version": 1,
        })

    # Outcomes: what the path leads to, decided at entry (dates follow from it)

    def _outcome(self, info, scenario) -> str:
        pick = self._pick
        if scenario in ("ED", "SD", "SP", "abandon", "positive", "not_positive",
                        "loss_of_contact", "end_of_action"):
            return scenario
        if scenario == "ED_follow_up":
            return "ED"
        if scenario == "positive_follow_up":
            return "positive"
        if scenario in ("running", "suspended", "running_absences"):
            return {"DEL": "ED", "FT": "positive", "PLIE": "end_of_action"}[info.family]
        if info.family == "DEL":
            return pick((("ED", 30), ("SD", 22), ("SP", 12), ("none", 16), ("abandon", 12),
                         ("anticipated", 8)))
        if info.code == "CSP":
            return pick((("positive", 45), ("not_positive", 12), ("none", 23),
                         ("abandon", 10), ("anticipated", 10)))
        if info.code == "ARJLJ":
            return "arjlj"
        return pick((("end_of_action", 45), ("job_or_training", 15),
                     ("better_suited_action", 10), ("participant_request", 10),
                     ("loss_of_contact", 20)))

    def _exit_date(self, info, entry, planned_end, outcome, scenario) -> date | None:
        """When the path ends (may be after today: the path is then still running)."""
        rng = self.rng
        span = max((planned_end - entry).days, 1)
        if scenario in ("running", "suspended", "running_absences"):
            return None
        if scenario in ("ED_follow_up", "positive_follow_up"):
            return self.today - timedelta(days=rng.randint(20, 50))
        if outcome in ("abandon", "anticipated", "participant_request", "better_suited_action",
                       "loss_of_contact"):
            day = entry + timedelta(days=int(span * rng.uniform(0.2, 0.8)))
        elif outcome == "positive" or (outcome == "job_or_training"):
            day = entry + timedelta(days=int(span * rng.uniform(0.3, 1.0)))
        elif outcome == "arjlj":
            day = entry + timedelta(days=rng.randint(14, span))
        elif info.code == "PLIE-L4":
            day = entry + timedelta(days=int(span * rng.uniform(0.7, 1.0)))
        else:
            day = planned_end
        return min(max(_weekday(day), entry), planned_end)

    def _exit_type(self, info, outcome) -> tuple[ExitType | None, bool]:
        """An exit type matching the outcome, and whether its contract must be long."""
        rng, scheme = self.rng, info.row.exit_scheme
        offered = [t for t in self.exit_types if scheme in t.schemes.split(",")]
        if not offered:
            return None, False
        if scheme == "DEL":
            if outcome == "ED":
                with_min = [t for t in offered if t.del_ed_min_months]
                plain = [t for t in offered if t.del_category is DelCategory.ED]
                if with_min and rng.random() < 0.4:
                    return rng.choice(with_min), True
                return (rng.choice(plain) if plain else None), True
            if outcome == "SD":
                return rng.choice([t for t in offered if t.del_category is DelCategory.SD]
                                  or offered), False
            if outcome == "SP":
                return rng.choice([t for t in offered if t.del_category is DelCategory.SP]
                                  or offered), False
        if scheme == "CSP" and outcome == "positive":
            good = [t for t in offered if t.csp_rule.value != "not_positive"]
            return (rng.choice(good) if good else None), True
        if scheme == "CSP" and outcome == "not_positive":
            bad = [t for t in offered if t.csp_rule.value != "not_positive"
                   and t.needs_contract_months]
            bad += [t for t in offered if t.csp_rule.value == "not_positive"
                    and not t.is_rupture and not t.is_anticipated and t.code != "no_solution"]
            return (rng.choice(bad) if bad else None), False
        if outcome == "abandon":
            rupture = [t for t in offered if t.is_rupture]
            return (rng.choice(rupture) if rupture else None), False
        if outcome == "anticipated":
            early = [t for t in offered if t.is_anticipated and not t.is_rupture]
            return (rng.choice(early) if early else None), False
        if outcome == "none":
            plain = [t for t in offered if t.del_category is None and not t.is_durable_job
                     and not t.is_rupture and not t.is_anticipated]
            preferred = self.exit_by_code.get("no_solution")
            if preferred in plain and rng.random() < 0.8:
                return preferred, False
            return (rng.choice(plain) if plain else None), False
        if scheme == "ARJLJ":
            return rng.choices(offered, weights=[6, 3, 1][:len(offered)] + [1] *
                               max(0, len(offered) - 3))[0], False
        # PLIE: the exit reason has the outcome's code when it exists
        return self.exit_by_code.get(outcome) or rng.choice(offered), False

    def _apply_exit(self, info, row, outcome, exit_date) -> date | None:
        """Fill the exit fields; return the end of the follow-up in employment, if any."""
        rng = self.rng
        exit_type, long_contract = self._exit_type(info, outcome)
        row["exit_date"] = exit_date
        row["exit_type_id"] = exit_type.id if exit_type else None
        row["exit_reason"] = exit_type.label if exit_type else "Fin de l'appui"
        if exit_type is not None:
            self._exit_facts(info, row, exit_type, long_contract)
            if exit_type.is_rupture:
                row["difficulties"] = self._text("abandon", "difficulties")
                row["recommendations"] = self._text("abandon", "recommendations")
        positive = outcome in ("ED", "SD", "SP", "positive", "job_or_training", "end_of_action")
        if rng.random() < 0.85:
            row["goal_attainment"] = rng.randint(2, 3) if positive else rng.randint(0, 2)
            row["satisfaction"] = rng.randint(3, 5) if positive else rng.randint(1, 4)
        # Follow-up after the exit, as the exit rule says (DEL: whoever completes the path,
        # 3 months, 001 étape 3; CSP: a durable job, 6 months, 002 §6)
        follow_months = info.row.follow_up_months
        if follow_months and exit_type is not None and self._opens_follow_up(
                info, row, exit_type, exit_date):
            return add_months(exit_date, follow_months)
        return None

    def _opens_follow_up(self, info, row, exit_type, exit_date) -> bool:
        """The exit rule's answer for this exit (rules/exits.py, the one classification)."""
        facts = ExitFacts(
            contract_kind=row.get("contract_kind"),
            contract_months=row.get("contract_months"),
            hours_per_month=row.get("hours_per_month"),
            followup_contract_kind=row.get("followup_contract_kind"),
            followup_contract_months=row.get("followup_contract_months"),
        )
        found = classify_exit(ExitTypeRule.from_object(exit_type), facts, info.row.exit_scheme,
                              exit_date=exit_date, planned_end_date=row.get("planned_end_date"))
        return found.opens_follow_up

    def _exit_facts(self, info, row, exit_type, long_contract) -> None:
        rng = self.rng
        threshold = exit_type.del_ed_min_months or exit_type.csp_min_months or 6
        kind = None
        if exit_type.needs_contract_kind:
            if exit_type.code == "subsidised":
                kind = ContractKind.SUBSIDISED
            elif "apprentice" in exit_type.code:
                kind = rng.choice((ContractKind.APPRENTICESHIP, ContractKind.PROFESSIONALISATION))
            else:
                kind = rng.choice((ContractKind.CDI, ContractKind.CDD))
            row["contract_kind"] = kind
        if exit_type.needs_contract_months and kind is not ContractKind.CDI:
            row["contract_months"] = (rng.randint(threshold, threshold + 18) if long_contract
                                      else rng.randint(1, max(1, threshold - 1)))
        if exit_type.needs_hours_per_month:
            # 002 §6: part-time counts from 110 hours a month
            row["hours_per_month"] = (rng.randint(110, 151) if long_contract
                                      else rng.randint(60, 104))
        if exit_type.needs_employer:
            row["employer"] = self._text("employers", "nc" if info.family == "DEL" else "fr")
        if exit_type.needs_training_title:
            row["training_title"] = self._text("training_titles")
        if exit_type.csp_rule.value == "poe":
            if long_contract:
                row["followup_contract_kind"] = rng.choice((ContractKind.CDI, ContractKind.CDD))
                if row["followup_contract_kind"] is ContractKind.CDD:
                    row["followup_contract_months"] = rng.randint(
                        exit_type.csp_min_months or 12, 24)
            else:
                row["followup_contract_kind"] = ContractKind.CDD
                row["followup_contract_months"] = rng.randint(3, 11)
        elif exit_type.csp_rule.value == "afpr":
            row["followup_contract_kind"] = ContractKind.CDD
            row["followup_contract_months"] = rng.randint(3, 11)

    # Phases

    def _phases(self, info, entry, exit_date, follow_up_end, planned_end, scenario):
        """(phase code, start, end or None, derogation) in order, up to today."""
        rng, today, code = self.rng, self.today, info.code
        result = []
        last = exit_date or today

        def add(phase, start, end, derogation=False):
            if start > today:
                return False
            result.append((phase, start, end if end is None or end <= today else None,
                           derogation))
            return True

        if info.family == "DEL":
            split = entry + timedelta(days=int((planned_end - entry).days * rng.uniform(0.45, 0.6)))
            if exit_date is not None and exit_date <= split:
                add("etape_1", entry, exit_date)
            else:
                add("etape_1", entry, split)
                add("etape_2", split + timedelta(days=1), exit_date)
            if follow_up_end is not None:
                add("etape_3", exit_date, follow_up_end)
        elif code == "CSP":
            add("prebilan", entry, entry)
            derogation = rng.random() < 0.1
            length = rng.randint(35, 56) if derogation else rng.randint(21, 28)
            p1_end = entry + timedelta(days=length - 1)
            if exit_date is not None and exit_date <= p1_end:
                add("phase_1", entry, exit_date, derogation)
            else:
                add("phase_1", entry, p1_end, derogation)
                add("phase_2", p1_end + timedelta(days=1), exit_date)
            if follow_up_end is not None:
                add("suivi_emploi", exit_date, follow_up_end)
        elif code == "ARJLJ":
            add("appui", entry, exit_date)
        else:
            first = "bilan" if code == "PLIE-L4" else "action"
            welcome_end = min(entry + timedelta(days=rng.randint(3, 14)), last)
            add("accueil", entry, welcome_end)
            if exit_date is None or exit_date > welcome_end:
                add(first, welcome_end + timedelta(days=1), exit_date)
            if exit_date is not None:
                add("sortie", exit_date, exit_date)
        return result

    # Suspensions (002 II §3): CSP mostly, a few DEL

    def _suspensions(self, info, person, enrolment_id, entry, end_at, ended, scenario) -> bool:
        """Add suspensions; return True when one is still running today."""
        rng, today = self.rng, self.today
        share = {"CSP": 0.25, "DEL-L1": 0.1, "DEL-L2": 0.1}.get(info.code, 0)
        if scenario == "suspended":
            share = 1
        if not share or rng.random() >= share or (end_at - entry).days < 40:
            return False
        reasons = list(self.suspension_reasons)
        reason = rng.choice(reasons)
        if scenario == "suspended":
            start = today - timedelta(days=rng.randint(5, 20))
            end = None
        else:
            start = self._between(entry + timedelta(days=30), end_at - timedelta(days=5))
            end = start + timedelta(days=rng.randint(7, 60))
            if end >= end_at:
                end = None if not ended and rng.random() < 0.5 else end_at
        self._add(Suspension, {
            "id": self._new_id(Suspension), "enrolment_id": enrolment_id,
            "reason_id": self.suspension_reasons[reason], "starts_on": start, "ends_on": end,
            "notes": None,
        })
        return end is None and not ended

    # Contacts

    def _contacts(self, info, enrolment_id, person_id, staff, entry, end_at, absences,
                  prebilan) -> None:
        rng, code = self.rng, info.code
        low, high = CONTACTS_PER_PATH[code]
        span = (end_at - entry).days
        if code == "CSP":  # more contacts on a long CSP path (002 II §4: ~ one a week)
            high = max(high, min(30, span // 16))
        count = rng.randint(low, high)
        mix = CONTACT_MIX["DEL" if info.family == "DEL" else "PLIE" if info.family == "PLIE"
                          else code]
        days = sorted(entry + timedelta(days=rng.randint(0, max(span, 0))) for _ in range(count))
        days[0] = entry  # the first interview is individual, on the entry day
        types = ["individual"] + [self._pick(mix) for _ in days[1:]]
        if code == "PLIE-L3" and len(types) > 1:
            types[1] = "tripartite"  # 004 Lot 3: tripartite interview at the start
        if code == "PLIE-L4" and len(types) > 1:
            types[-1] = "tripartite"  # 004 Lot 4: tripartite interview at the end
        for index, (day, kind) in enumerate(zip(days, types, strict=True)):
            day = _weekday(day)
            if day > self.today:
                day = end_at
            if (prebilan if index == 0 and prebilan else day) >= self.today:
                # Issue 20 §8: a contact of today or later would be a planned appointment,
                # which a contact cannot express (its attendance is a mark of the past)
                continue
            attendance = Attendance.PRESENT
            if index > 0:
                r = rng.random()
                attendance = (Attendance.EXCUSED if r < 0.05 else
                              Attendance.UNEXCUSED if r < 0.09 else Attendance.PRESENT)
            if absences == "two" and index >= len(days) - 2 and len(days) >= 3:
                attendance = Attendance.UNEXCUSED  # 004: 2 consecutive unjustified absences
            minutes = {"individual": 45 if info.family == "PLIE" else rng.choice((45, 60, 60, 90)),
                       "phone": rng.choice((10, 15, 20, 30)), "email": None,
                       "group_session": 180, "company_visit": 60, "tripartite": 60}[kind]
            if code == "PLIE-L1" and kind == "individual":
                minutes = rng.choice((30, 40, 45))  # 004 Lot 1: at most 45 min
            if code == "PLIE-L4" and kind == "individual" and index > 0:
                minutes = rng.choice((120, 150, 180))  # bilan sessions, 12 to 20 h in all
            hour = rng.choice((8, 9, 10, 11, 14, 15, 16))
            when = prebilan if index == 0 and prebilan else day
            present = attendance is Attendance.PRESENT
            self._add(Contact, {
                "id": self._new_id(Contact), "enrolment_id": enrolment_id,
                "beneficiary_id": person_id, "contact_type_id": self.contact_types[kind],
                "occurs_at": _at(when, hour, rng.choice((0, 30))),
                "duration_minutes": minutes if present else None, "staff_id": staff,
                "attendance": attendance,
                "objective": self._text("objectives") if present and kind != "email" else None,
                "notes": self._text("contact_notes") if present else
                ("Absence non justifiée, relance envoyée." if attendance is Attendance.UNEXCUSED
                 else "Absence justifiée (rendez-vous médical)."),
            })

    # Workshops: people of a programme meet in groups sized by the programme

    def _workshops(self, info, enrolment_id, staff, entry, end_at) -> None:
        rng, code = self.rng, info.code
        if code == "ARJLJ":
            self._arjlj_meeting(info, enrolment_id)
            return
        plan = WORKSHOP_PLAN.get(code)
        if plan is None:
            return
        low, high = plan[0], plan[1]
        for _ in range(rng.randint(low, high)):
            day = _weekday(self._between(entry, end_at))
            if day >= self.today:
                continue  # issue 20 §8: no attendance sheet for a workshop not yet held
            # Groups form within a session (PLIE, DEL) or a quarter (CSP)
            key = (code, self._session_for(code, day) or (day.year, (day.month - 1) // 3))
            # The first open group this person can meet before leaving, else a new one
            pools = self.pools.setdefault(key, [])
            if any(m[0] == enrolment_id for pool in pools for m in pool.members):
                continue
            pool = next((p for p in pools if p.fits(day, end_at)), None)
            if pool is None:
                pool = _Pool(target=rng.randint(*self._group_size(info)))
                pools.append(pool)
            pool.members.append((enrolment_id, day, staff, end_at))
            if len(pool.members) >= pool.target:
                self._emit_workshop(info, key, pool.members)
                pools.remove(pool)

    def _group_size(self, info) -> tuple[int, int]:
        plan = WORKSHOP_PLAN[info.code]
        low = info.row.group_min or plan[2]
        high = info.row.group_max or max(plan[3], low)
        return low, high

    def _emit_workshop(self, info, key, members) -> None:
        rng = self.rng
        held = max(m[1] for m in members)
        minutes = (info.row.workshop_hours or 0) * 60 or WORKSHOP_PLAN[info.code][4]
        places = {"DEL": ["Nouméa — locaux du prestataire", "Dumbéa — antenne du prestataire"],
                  "FT": ["Montpellier — locaux du prestataire", "Nîmes — locaux du prestataire"],
                  "PLIE": ["Lunel", "Mauguio", "La Grande-Motte", "Carnon",
                           "Palavas-les-Flots"]}[info.family]
        wid = self._new_id(Workshop)
        self._add(Workshop, {
            "id": wid, "programme_id": info.id, "session_id": self._session_for(info.code, held),
            "title": self._text("workshop_titles", info.code),
            "held_at": _at(held, rng.choice((9, 14))), "duration_minutes": minutes,
            "place": rng.choice(places),
            "facilitator": ("Psychologue du prestataire" if info.code == "PLIE-L1"
                            else self.staff_names.get(members[0][2])),
            "information_meeting": False,
        })
        self.emitted[key].append((wid, [m[0] for m in members], held))
        for enrolment_id, *_ in members:
            self._attend(wid, enrolment_id)

    def _attend(self, workshop_id, enrolment_id) -> None:
        r = self.rng.random()
        self._add(WorkshopAttendance, {
            "id": self._new_id(WorkshopAttendance), "workshop_id": workshop_id,
            "enrolment_id": enrolment_id,
            "attendance": (Attendance.EXCUSED if r < 0.07 else Attendance.UNEXCUSED
                           if r < 0.12 else Attendance.PRESENT),
        })

    def _arjlj_meeting(self, info, enrolment_id) -> None:
        """002 I §5.1: one or two collective information meetings per company."""
        order = self.arjlj_order
        if order["workshop"] is None:
            held = add_working_days(order["start"], self.rng.randint(1, 3), info.territory)
            if held >= self.today:
                return
            wid = self._new_id(Workshop)
            self._add(Workshop, {
                "id": wid, "programme_id": info.id, "session_id": None,
                "title": self._text("workshop_titles", "ARJLJ"),
                "held_at": _at(held, 10), "duration_minutes": 120,
                "place": f"{order['place']} — locaux de l'entreprise",
                "facilitator": self.staff_names.get(self.counsellors["FT"][0][0]),
                "information_meeting": True,  # 002 I §7: « réunions d'information collective »
            })
            order["workshop"] = wid
        if self.rng.random() < 0.85:
            self._attend(order["workshop"], enrolment_id)

    def finish_workshops(self) -> None:
        """Groups left half-full are held when big enough; else each member joins the
        session's last workshop if it has room and meets before the member leaves, or
        attended no workshop."""
        for key, pools in self.pools.items():
            info = self.programmes[key[0]]
            low, high = self._group_size(info)
            for pool in pools:
                if len(pool.members) >= low:
                    self._emit_workshop(info, key, pool.members)
                    continue
                done = self.emitted.get(key)
                if not done:
                    continue
                wid, attendees, held = done[-1]
                for enrolment_id, day, _, end in pool.members:
                    if (len(attendees) < high and enrolment_id not in attendees
                            and day <= held <= end):
                        attendees.append(enrolment_id)
                        self._attend(wid, enrolment_id)
        self.pools.clear()

    # Internships: DEL company internship (001 étape 2), PLIE-L3 immersions (004 Lot 3)

    def _internships(self, info, enrolment_id, entry, phases, end_at) -> bool:
        """Add the path's internships or immersions; True when it has one."""
        rng, today = self.rng, self.today
        if info.family == "DEL":
            # 001 « Description » : « obligatoirement intégrer une période de stage en
            # entreprise »: most paths that reach étape 2 do one
            stage = next((p for p in phases if p[0] == "etape_2"), None)
            if stage is None or rng.random() < 0.2:
                return False
            start = _weekday(stage[1] + timedelta(days=rng.randint(3, 20)))
            if start > end_at:
                return False
            end = min(start + timedelta(weeks=rng.randint(2, 6)) - timedelta(days=3), end_at)
            end = max(end, start)
            midpoint = start + (end - start) / 2
            weeks = max(1, ((end - start).days + 1) // 7)
            self._add(Internship, self._internship_row(
                enrolment_id, self._text("employers", "nc"),
                f"{rng.randint(0, 9_999_999):07d}.{rng.randint(1, 3):03d}",  # RIDET
                start, end, min(35 * weeks, 2000),
                **self._evaluations(midpoint <= today, midpoint_technical="technical",
                                    midpoint_behavioural="behavioural"),
                **self._evaluations(end < today, final_technical="technical",
                                    final_behavioural="behavioural"),
                report_on=(end + timedelta(days=rng.randint(2, 10))
                           if end + timedelta(days=10) <= today else None),
            ))
            return True
        elif info.code == "PLIE-L3" and rng.random() < 0.7:  # most do an immersion
            start = _weekday(end_at - timedelta(days=rng.randint(0, 25)))
            start = max(start, end_at - timedelta(days=40), entry)  # within the path
            for _ in range(1 if rng.random() < 0.8 else 2):
                if start > end_at or start > today:
                    return False
                # 004 Lot 3: at most 30 h over at most two weeks
                end = min(start + timedelta(days=rng.randint(3, 11)), end_at)
                done = end < today
                cosigned = end + timedelta(days=rng.randint(0, 10))
                self._add(Internship, self._internship_row(
                    enrolment_id, self._text("plie_hosts"),
                    # SIRET: SIREN (9 digits) + establishment (5), Luhn-valid
                    _luhn_complete(
                        f"{rng.randint(10_000_000, 99_999_999)}000{rng.randint(10, 99)}"),
                    start, end, rng.randint(12, 30),
                    **self._evaluations(done, **{name: name for name in (
                        "diagnostic_behaviour", "diagnostic_understanding", "diagnostic_skills",
                        "diagnostic_relations", "diagnostic_recommendations")}),
                    diagnostic_cosigned_on=cosigned if done and cosigned <= today else None,
                ))
                start = end + timedelta(days=rng.randint(7, 20))
        return False  # PLIE immersions: no obligation read from them

    def _evaluations(self, done: bool, **fields: str) -> dict:
        """{column: a text of texts.yaml internship[key]} when `done`, else empty columns."""
        return {column: self._text("internship", key) if done else None
                for column, key in fields.items()}

    def _internship_row(self, enrolment_id, company, number, start, end, hours, **extra):
        row = {
            "id": self._new_id(Internship), "enrolment_id": enrolment_id,
            "company_name": company, "company_number": number,
            "tutor_name": self._person_name("DEL" if number and "." in number else "FT"),
            "starts_on": start, "ends_on": end, "hours": hours,
            "planned_activities": self._text("internship", "activities"),
            "evaluation_criteria": self._text("internship", "criteria"),
            "conditions_checked_on": start - timedelta(days=self.rng.randint(3, 10)),
            "midpoint_technical": None, "midpoint_behavioural": None, "final_technical": None,
            "final_behavioural": None, "report_on": None, "diagnostic_behaviour": None,
            "diagnostic_understanding": None, "diagnostic_skills": None,
            "diagnostic_relations": None, "diagnostic_recommendations": None,
            "diagnostic_cosigned_on": None,
        }
        row.update(extra)
        return row

    # Barriers on about half of the paths, some lifted

    def _barriers(self, info, enrolment_id, entry, end_at) -> None:
        rng = self.rng
        codes = []
        if info.code == "DEL-L2" and "disability" in self.barrier_types:
            codes.append("disability")
        if rng.random() < 0.5:
            weights = [BARRIER_WEIGHTS.get(c, 1) for c in self.barrier_codes]
            for code in rng.choices(self.barrier_codes, weights=weights, k=rng.randint(1, 3)):
                if code not in codes:
                    codes.append(code)
        for code in codes:
            identified = min(entry + timedelta(days=rng.randint(0, 20)), end_at)
            lifted = None
            if rng.random() < 0.45:
                candidate = identified + timedelta(days=rng.randint(15, 150))
                lifted = candidate if candidate <= end_at else None
            self._add(Barrier, {
                "id": self._new_id(Barrier), "enrolment_id": enrolment_id,
                "barrier_type_id": self.barrier_types[code], "identified_on": identified,
                "lifted_on": lifted,
                "notes": ("Suivi engagé avec un partenaire spécialisé (détail non consigné)."
                          if code in ("health", "justice", "addiction", "disability") else None),
            })

    # --- the whole run ------------------------------------------------------------------

    def run(self, people: int, commit=None) -> None:
        self.commission_ids: dict = {}
        self.orders: dict = {}
        self.order_seq: dict = defaultdict(int)
        self.withdrawals: dict = defaultdict(list)
        self.pools: dict = {}
        self.emitted: dict = defaultdict(list)
        self.arjlj_order = None
        self.forced_statuses = list(FORCED_STATUSES)
        self.make_users(people)
        self.staff_names = {uid: name for fam in self.counsellors.values()
                            for uid, name in fam}
        self.make_sessions()
        plan = self._programme_plan(people)
        forced = defaultdict(list)
        for code, scenario, days_ago in FORCED_SCENARIOS:
            forced[code].append((scenario, days_ago))
        for start in range(0, people, CHUNK_SIZE):
            for code in plan[start:start + CHUNK_SIZE]:
                scenario, days_ago = forced[code].pop(0) if forced[code] else (None, None)
                self.make_person(code, scenario, days_ago)
            self.flush()
            if commit is not None and (start + CHUNK_SIZE) % COMMIT_EVERY == 0:
                commit()
        self.finish_workshops()
        self.flush()
        # Purchase orders were inserted before all their lines were known (at version 1:
        # a Versioned row's UPDATE names the version it changes)
        counts = [{"id": o["id"], "beneficiary_count": o["count"], "version": 1}
                  for o in self.orders.values()]
        if counts:
            self.session.execute(update(PurchaseOrder), counts)

    def _programme_plan(self, people: int) -> list[str]:
        """The programme of each person: shares of PROGRAMME_WEIGHTS, forced ones first."""
        total = sum(PROGRAMME_WEIGHTS.values())
        quotas = {c: people * w // total for c, w in PROGRAMME_WEIGHTS.items()}
        rest = people - sum(quotas.values())
        for code in sorted(PROGRAMME_WEIGHTS, key=lambda c: -PROGRAMME_WEIGHTS[c])[:rest]:
            quotas[code] += 1
        plan = [c for c, n in quotas.items() for _ in range(n)]
        self.rng.shuffle(plan)
        return plan


#: Tables whose indexes and constraints wait for the end of a load (the users stay as
#: they are: a few rows, and their unique e-mail guards the demo accounts).
DEFERRED_TABLES = tuple(
    (model if isinstance(model, Table) else model.__table__).name
    for model in _DemoBuilder.ORDER if model is not User)
#: Memory of the server's index builds at the end of a load (PostgreSQL's default, 64 MB,
#: sorts the largest ones on disk in several passes).
INDEX_BUILD_MEMORY = "512MB"


def _defer_constraints(session, tables=DEFERRED_TABLES, *,
                       keep_lookups: bool = False) -> list[tuple[str, str]]:
    """PostgreSQL, tables about to be filled in bulk: drop their secondary indexes, unique
    and foreign-key constraints, and return what recreates them (the catalogue's own
    definitions, ``pg_get_indexdef`` and ``pg_get_constraintdef``: the schema afterwards
    is the migrations' one). Each row written then costs its table and primary key only,
    instead of every index of the table and a lookup and row lock in each parent table
    per foreign key; the indexes are sorted once at the end and each foreign key is
    checked by one join (docs/benchmarks.md, « Demo generator »). Primary keys stay (the
    foreign keys name them), as do unique constraints a foreign key names, and the plain
    indexes of one column (what finds a subject's rows while the table fills) of a table
    with a trigger of its own (`suspensions_no_overlap` reads the path's other
    suspensions: without its index, each row would read the whole table) or with
    ``keep_lookups``. SQLite: nothing (its foreign keys and unique constraints are part
    of the table)."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    tables = list(tables)
    constraints = session.execute(text(
        "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)"
        " FROM pg_constraint c WHERE c.conrelid = ANY(CAST(:tables AS regclass[]))"
        " AND (c.contype = 'f' OR c.contype = 'u' AND NOT :keep AND NOT EXISTS ("
        "  SELECT FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid))"
        " ORDER BY 1, 2"), {"tables": tables, "keep": keep_lookups}).all()
    indexes = session.execute(text(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " WHERE i.indrelid = ANY(CAST(:tables AS regclass[])) AND NOT EXISTS ("
        "  SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid"
        "  AND c.contype IN ('p', 'u', 'x'))"
        " AND NOT ((:keep OR EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = i.indrelid"
        "  AND NOT t.tgisinternal)) AND i.indnatts = 1 AND i.indpred IS NULL"
        "  AND NOT i.indisunique)"
        " ORDER BY 1"), {"tables": tables, "keep": keep_lookups}).all()
    quote = session.get_bind().dialect.identifier_preparer.quote
    deferred = []
    for table, name, definition in constraints:
        session.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}"))
        deferred.append((name, f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}"))
    for name, definition in indexes:
        session.execute(text(f"DROP INDEX {name}"))
        deferred.append((name, definition))
    return deferred


def _restore_constraints(session, deferred: list[tuple[str, str]],
                         tables=DEFERRED_TABLES) -> None:
    """Recreate what `_defer_constraints` dropped and is missing (after a rollback only
    what a commit made final is), then refresh the planner's figures of the filled tables
    (the deadline engine reads them next)."""
    if not deferred:
        return
    session.execute(text(f"SET LOCAL maintenance_work_mem = '{INDEX_BUILD_MEMORY}'"))
    # Unique constraints and indexes first, then the foreign keys
    for name, statement in sorted(deferred, key=lambda item: " FOREIGN KEY " in item[1]):
        exists = session.scalar(text(
            "SELECT to_regclass(:name) IS NOT NULL OR EXISTS ("
            " SELECT FROM pg_constraint WHERE conname = :name"
            " AND connamespace = current_schema()::regnamespace)"), {"name": name})
        if not exists:
            session.execute(text(statement))
    session.execute(text(f"ANALYZE {', '.join(tables)}"))


def _after_load(session, deferred: list[tuple[str, str]]) -> None:
    """What a load into a fresh database left out, made once at the end: the indexes and
    constraints (`_restore_constraints`), the name search's index, and the triggers of the
    workshops' sheet flag with the flags of the workshops loaded (models/sheet_flag.py: one
    UPDATE instead of a trigger run per line of 678 000 at a million people)."""
    _restore_constraints(session, deferred)
    connection = session.connection()
    search_index.create(connection)
    sheet_flag.create(connection)
    connection.execute(text(sheet_flag.FILL))


def _reset_sequences(session) -> None:
    """PostgreSQL: move each id sequence past the ids chosen by the demo."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for model in _DemoBuilder.ORDER:
        if not hasattr(model, "id"):
            continue
        table = model.__tablename__
        session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        ))


def build_demo(session, beneficiaries: int = 300, seed: int = 1,
               today: date | None = None, commit=None) -> list[str]:
    """Create the demo dataset and the demo accounts; return a French summary.

    Deterministic for a given `seed` and `today` (default: the current date). Loads the
    reference data first if the programmes table is empty. When the demo accounts already
    exist, nothing is added and the summary says so. Does not commit, unless given
    ``commit``: then it is called after each `COMMIT_EVERY` people (``flask seed demo``:
    a million people are not one transaction of gigabytes).

    On a database without people yet, the name search's index is built once at the end
    instead of row by row (models/search_index.py; a third of the people's insert time).
    """
    if beneficiaries < 1:
        raise ValueError("Nombre de bénéficiaires : 1 au minimum.")
    today = today or date.today()
    started = time.perf_counter()
    if session.scalar(select(Programme.id).limit(1)) is None:
        load_reference(session)
        session.flush()
    if session.scalar(select(User.id).where(User.email == DEMO_ACCOUNTS[0][0])) is not None:
        return [
            "Des données de démonstration existent déjà (compte admin@demo.fr) : "
            "rien n'a été ajouté.",
            "Pour repartir de zéro, recréez la base puis relancez « flask seed demo ».",
        ]
    builder = _DemoBuilder(session, random.Random(seed), today)
    fresh = session.scalar(select(Beneficiary.id).limit(1)) is None
    deferred: list[tuple[str, str]] = []
    if fresh:
        search_index.drop(session.connection())
        sheet_flag.drop(session.connection())
        deferred = _defer_constraints(session)
    try:
        builder.run(beneficiaries, commit)
    except BaseException:
        if fresh and commit is not None:  # the people committed so far stay searchable
            session.rollback()
            _after_load(session, deferred)
            commit()
        raise
    if fresh:
        _after_load(session, deferred)
    _reset_sequences(session)
    session.flush()
    return _summary(session, builder, seed, today, time.perf_counter() - started)


@dataclass
class SettledObligations:
    """What `settle_past_obligations` did: deliverables marked done, late, left open."""

    on_time: int = 0
    late: int = 0
    still_open: int = 0

    def line(self) -> str:
        return (f"  {self.on_time + self.late} échéances passées faites "
                f"({self.late} en retard), {self.still_open} encore à faire")


def settle_past_obligations(session, seed: int, now: datetime) -> SettledObligations:
    """Mark the demo's past deliverables done, as a service that keeps up would have
    (issue 20 §8): most before their due date, a few late by some days, and a handful due
    in the last six weeks still open — a day's work for each counsellor. Runs after the
    deadline engine's rebuild (which creates the obligations); deterministic for a given
    `seed` and `now`. Flushes; the caller commits.

    The deliverables are documents sent to the funder (a « fulfilled_by » of
    seeds/deadline_rules.yaml the demo does not model), so their « done » is recorded as
    « Marquer comme fait » would (``done_at``); a later rebuild keeps it.
    """
    rng = random.Random(f"obligations-{seed}")  # its own stream: the rows above stay put
    table = Obligation.__table__
    rows = session.execute(
        select(table.c.id, table.c.event_at, table.c.due_at, Enrolment.referent_id)
        .outerjoin(Enrolment, table.c.enrolment_id == Enrolment.id)
        .where(table.c.done_at.is_(None), table.c.cancelled_at.is_(None),
               table.c.due_at < now)
        # The recent ones first stay open; ties in the order of what they are about, not
        # of their ids (the engine's insertion order is not part of the seed)
        .order_by(table.c.due_at.desc(), table.c.rule_id, table.c.enrolment_id,
                  table.c.purchase_order_id, table.c.session_id, table.c.referral_id,
                  table.c.programme_id, table.c.event_at)
    ).all()
    result, done = SettledObligations(), []
    # Each counsellor's share of the work left (None: orders, sessions, reports)
    owners = sorted({row[3] for row in rows}, key=lambda owner: (owner is not None, owner))
    left_open = {owner: rng.randint(*OPEN_PER_OWNER) for owner in owners}
    for obligation_id, event_at, due_at, referent_id in rows:
        draw, delay, share = rng.random(), rng.randint(*LATE_DAYS), rng.random()
        if (now - due_at <= timedelta(days=OPEN_WITHIN_DAYS) and draw < OPEN_SHARE
                and left_open[referent_id] > 0):
            left_open[referent_id] -= 1
            result.still_open += 1
            continue
        late_at = datetime.combine(due_at.date() + timedelta(days=delay), dtime(17))
        if draw > 1 - LATE_SHARE and late_at < now:
            done.append({"oid": obligation_id, "done": late_at})
            result.late += 1
            continue
        # Between the event (or EARLY_DAYS before the due date) and the due date
        start = min(max(event_at or due_at, due_at - timedelta(days=EARLY_DAYS)), due_at)
        done.append({"oid": obligation_id, "done": min(start + (due_at - start) * share, now)})
        result.on_time += 1
    if done:
        # One UPDATE joined to the dates written in bulk, not one UPDATE per deliverable
        # (a million people: a million statements for the server)
        settled = Table("demo_settled", MetaData(), Column("oid", Integer),
                        Column("done", DateTime), prefixes=["TEMPORARY"])
        settled.create(session.connection())
        insert_many(session, settled, done)
        session.execute(update(table).where(table.c.id == settled.c.oid)
                        .values(done_at=settled.c.done))
        settled.drop(session.connection())
    session.flush()
    return result


@contextmanager
def without_cycle_collector():
    """Python's cyclic garbage collector paused (``flask seed demo``). The generator and
    the deadline engine keep hundreds of thousands of objects alive, which each full pass
    of the collector reads again: a quarter of the command's CPU at 100 000 people, 40 %
    of the deadline rebuild's (docs/benchmarks.md, « Demo generator »). What they drop
    is still freed at once by reference counting; the few cycles left wait for the end."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.collect()


@contextmanager
def deadlines_in_bulk(session):
    """Around the deadline engine's first rebuild of a demo and `settle_past_obligations`
    (``flask seed demo``): on PostgreSQL, when no deadline exists yet, the deadlines'
    foreign keys and their indexes other than the lookups of one column wait until the
    end (`_defer_constraints`), then are rebuilt in the same transaction. Yields what to
    call once the rebuild is over: the lookups go too while the past deadlines are marked
    done (a million updated rows, each writing an entry in every index). Nothing changes
    on SQLite or when the table has rows."""
    table = Obligation.__table__
    empty = session.scalar(select(table.c.id).limit(1)) is None
    deferred = _defer_constraints(session, (table.name,), keep_lookups=True) if empty else []

    def rebuilt() -> None:
        if empty:
            deferred.extend(_defer_constraints(session, (table.name,)))

    yield rebuilt
    _restore_constraints(session, deferred, (table.name,))


def _summary(session, builder: _DemoBuilder, seed: int, today: date,
             seconds: float) -> list[str]:
    c = builder.counts
    statuses = dict(session.execute(
        select(Enrolment.status, func.count()).where(
            Enrolment.id >= builder.next_ids[Enrolment] - c[Enrolment]
        ).group_by(Enrolment.status)
    ).all())
    by_status = ", ".join(f"{s.label.lower()} : {statuses.get(s, 0)}" for s in EnrolmentStatus)
    counsellors = builder.counsellor_count
    last_referent = REFERENT_EMAIL if counsellors == 1 else f"referent{counsellors}@demo.fr"
    return [
        f"Données de démonstration créées (graine {seed}, date de référence "
        f"{today:%d/%m/%Y}) en {str(round(seconds, 1)).replace('.', ',')} s :",
        f"  {c[Beneficiary]} bénéficiaires, {c[Referral]} prescriptions, "
        f"{c[Commission]} commissions, {c[PurchaseOrder]} bons de commande "
        f"({c[PurchaseOrderLine]} lignes), {c[ProgrammeSession]} sessions",
        f"  {c[Enrolment]} parcours ({by_status}), {c[PhaseRecord]} étapes, "
        f"{c[Suspension]} suspensions",
        f"  {c[Contact]} entretiens, {c[Workshop]} ateliers ({c[WorkshopAttendance]} "
        f"émargements), {c[Internship]} stages et immersions, {c[Barrier]} freins",
        f"Comptes de démonstration (mot de passe : {DEMO_PASSWORD}) :",
        *(f"  {email} — {role.label}" for email, _, role in DEMO_ACCOUNTS),
        f"  {REFERENT_EMAIL} … {last_referent} — {Role.COUNSELLOR.label} "
        f"({counsellors} comptes)",
    ]
