"""Staff accounts and the people the organisation supports."""
import secrets
from datetime import date, datetime
from functools import lru_cache

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from ..enums import EducationLevel, Role, Sex
from ..extensions import db
from ..rules.people import (  # noqa: F401 (exported)
    NAME_KEY_SEPARATOR,
    fold,
    name_key,
    search_key,
)
from ._types import Versioned, enum_type, utcnow


class User(UserMixin, Versioned, db.Model):
    """A staff account; `role` decides what it may see and do (auth/permissions.py)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Bumped on logout, deactivation and password change: every session cookie carrying an
    # older number is refused (server-side invalidation, security.py).
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    # A funder's representative (viewer) reads only this funder's programmes, sessions,
    # orders and reports (issue 18 §1); without one, nothing (auth/permissions.py).
    funder_id: Mapped[int | None] = mapped_column(ForeignKey("funders.id"), index=True)

    funder: Mapped["Funder | None"] = relationship()  # noqa: F821

    @validates("email")
    def _normalise_email(self, _key, value: str) -> str:
        return value.strip().lower()

    @validates("active")
    def _close_sessions_on_deactivation(self, _key, value: bool) -> bool:
        """A deactivated account is logged out everywhere at once (issue 6 §3)."""
        if self.active and not value:
            self.end_all_sessions()
        return value

    def end_all_sessions(self) -> None:
        """Every session cookie of this account stops working at its next request."""
        self.session_version = (self.session_version or 1) + 1

    def set_password(self, password: str) -> None:
        """Store a salted hash (Werkzeug's default, scrypt), never the password; a new
        password closes the sessions opened with the old one."""
        self.password_hash = generate_password_hash(password)
        if self.id is not None:
            self.end_all_sessions()

    def check_password(self, password: str) -> bool:
        """True when `password` matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    def __str__(self) -> str:
        return self.name


@lru_cache(maxsize=1)
def _no_account_hash() -> str:
    """The hash checked when no account has the e-mail typed: a random password's, made
    as `User.set_password` makes the accounts' (same method and cost), once per process."""
    return generate_password_hash(secrets.token_urlsafe(24))


def password_matches(user: User | None, password: str) -> bool:
    """True when `user` exists and `password` is theirs. Without an account the same hash
    is computed against a stand-in, so that a refusal takes the same time for an unknown
    e-mail as for a wrong password (no list of accounts by timing; before, an unknown
    e-mail was refused in 3.5 ms and a wrong password in 101 ms, bench/login.py)."""
    if user is None:
        check_password_hash(_no_account_hash(), password)
        return False
    return user.check_password(password)


#: The key compares byte by byte on every engine (SQLite's default; on PostgreSQL
#: whatever the database's locale): the alphabetical order of the list and the reports.
NAME_KEY_TYPE = String(200).with_variant(String(200, collation="C"), "postgresql")
#: The search key: the name key and the external id (same byte-by-byte comparison).
SEARCH_KEY_TYPE = String(250).with_variant(String(250, collation="C"), "postgresql")


def display_name(last_name: str | None, first_name: str | None) -> str:
    """A person as every screen shows them: the last name upper-cased with its accents
    (« Prévost », « Çelik » → « PRÉVOST », « ÇELIK »), then the first name as typed.

    Upper-cased here in Python, never by the database: SQLite's upper() leaves every
    non-ASCII letter alone (« PRéVOST »), and PostgreSQL's depends on the cluster's locale.
    """
    return f"{(last_name or '').upper()} {first_name or ''}".strip()


class Beneficiary(Versioned, db.Model):
    """A person supported on a path (bénéficiaire, participant, adhérent)."""

    __tablename__ = "beneficiaries"
    __table_args__ = (
        UniqueConstraint("name_key", "birth_date", name="uq_beneficiaries_identity"),
        CheckConstraint("birth_date > '1900-01-01'", name="birth_date_plausible"),
        # the list's default sort (alphabetical, then the id that breaks ties)
        Index("ix_beneficiaries_name_key_id", "name_key", "id"),
        # a commune's people in the list's order (the filter « Commune », migration 0027)
        Index("ix_beneficiaries_commune_name_key_id", "commune", "name_key", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(NAME_KEY_TYPE)
    # Kept by `_refresh_keys`; indexed for « contains » by people_search.py (trigrams).
    search_key: Mapped[str] = mapped_column(SEARCH_KEY_TYPE)
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[Sex] = mapped_column(enum_type(Sex, 1))
    external_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(30))
    address: Mapped[str | None] = mapped_column(String(300))
    postcode: Mapped[str | None] = mapped_column(String(10))
    commune: Mapped[str | None] = mapped_column(String(100))
    epci: Mapped[str | None] = mapped_column(String(100))
    education_level: Mapped[EducationLevel | None] = mapped_column(enum_type(EducationLevel, 4))
    # Eligibility criteria (004 §2, 002 II §2, 001 Lot 2)
    long_term_job_seeker: Mapped[bool] = mapped_column(default=False)
    rsa_recipient: Mapped[bool] = mapped_column(default=False)
    social_minima: Mapped[bool] = mapped_column(default=False)
    disability_recognition: Mapped[bool] = mapped_column(default=False)  # RQTH / CRHD
    experimental_csp_public: Mapped[bool] = mapped_column(default=False)
    # The ESF+ participant data are per path, frozen at entry: models/esf.py (issue 24).
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Set by `flask privacy purge`: identity erased, anonymous figures kept (privacy.py).
    anonymised_at: Mapped[datetime | None]

    referrals: Mapped[list["Referral"]] = relationship(back_populates="beneficiary")  # noqa: F821
    enrolments: Mapped[list["Enrolment"]] = relationship(back_populates="beneficiary")  # noqa: F821

    @validates("last_name", "first_name", "external_id")
    def _refresh_keys(self, key, value: str | None) -> str | None:
        """The dedup key and the search key follow the names and the external id."""
        if key == "external_id":
            external_id = value
        else:
            value = (value or "").strip()
            external_id = self.external_id
        last = value if key == "last_name" else (self.last_name or "")
        first = value if key == "first_name" else (self.first_name or "")
        self.name_key = name_key(last, first)
        self.search_key = search_key(last, first, external_id)
        return value

    def age_on(self, day: date) -> int:
        """Age in whole years on `day`."""
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - before_birthday

    def is_under_26_on(self, day: date) -> bool:
        """« Jeune de moins de 26 ans » (004 §2), derived from the birth date."""
        return self.age_on(day) < 26

    @property
    def full_name(self) -> str:
        """« PRÉVOST Anne »: see :func:`display_name`."""
        return display_name(self.last_name, self.first_name)

    def __str__(self) -> str:
        return f"{self.full_name} ({self.birth_date:%d/%m/%Y})"


__all__ = ["Beneficiary", "User", "display_name", "fold", "name_key", "search_key"]
