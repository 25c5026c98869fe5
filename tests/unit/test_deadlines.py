"""Due dates, with the worked examples of domain.md's deadline table (2026 calendar)."""

from datetime import date, datetime

import pytest

from backoffice.rules.deadlines import PLIE_INTERIM_CUTOFFS, Cutoff, due_at, fixed_cutoffs

D, T = date, datetime


@pytest.mark.parametrize(
    ("event_at", "offset", "unit", "territory", "expected"),
    [
        # ARJLJ: start of support 2 working days after the order is received (002 I §4)
        (D(2026, 3, 6), 2, "working_days", "FR", D(2026, 3, 10)),  # Friday → Tuesday
        (T(2026, 3, 6, 17, 45), 2, "working_days", "FR", T(2026, 3, 10, 17, 45)),
        (D(2026, 5, 7), 2, "working_days", "FR", D(2026, 5, 12)),  # Friday 8 May
        (D(2026, 7, 10), 2, "working_days", "FR", D(2026, 7, 15)),  # Tuesday 14 July
        # CSP: pré-bilan 8 calendar days after the referral (002 §3)
        (D(2026, 3, 2), 8, "calendar_days", "FR", D(2026, 3, 10)),
        (D(2026, 3, 6), 8, "calendar_days", "FR", D(2026, 3, 16)),  # Saturday → Monday
        (D(2026, 12, 17), 8, "calendar_days", "FR", D(2026, 12, 28)),  # Christmas, a Friday
        # CSP: contract copy 48 h after the pré-bilan (002 §4)
        (T(2026, 3, 6, 10, 0), 48, "hours", "FR", T(2026, 3, 9, 10, 0)),  # Fri → Sun → Mon
        (T(2026, 3, 10, 10, 0), 48, "hours", "FR", T(2026, 3, 12, 10, 0)),
        (T(2026, 4, 2, 9, 0), 48, "hours", "FR", T(2026, 4, 7, 9, 0)),  # Sat, Easter Sun + Mon
        (D(2026, 3, 10), 48, "hours", "FR", D(2026, 3, 12)),  # date only: whole days
        (D(2026, 3, 10), 36, "hours", "FR", D(2026, 3, 12)),  # 1.5 days rounded up
        # CSP: end of phase 1, 4 weeks after its start (002 §4)
        (D(2026, 3, 2), 28, "calendar_days", "FR", D(2026, 3, 30)),
        # CSP: monthly table, 5th working day of the next month = 5 working days after the
        # last day of the month (002 §9)
        (D(2026, 10, 31), 5, "working_days", "FR", D(2026, 11, 6)),  # 1 Nov on a Sunday
        (D(2026, 4, 30), 5, "working_days", "FR", D(2026, 5, 11)),  # 1 and 8 May
        (D(2026, 12, 31), 5, "working_days", "FR", D(2027, 1, 8)),  # New Year's Day
        (D(2027, 10, 31), 5, "working_days", "FR", D(2027, 11, 8)),  # 1 Nov on a Monday
        # DEL: end-of-path report 1 month after the end of the session (001)
        (D(2026, 6, 30), 1, "months", "NC", D(2026, 7, 30)),
        (D(2026, 6, 14), 1, "months", "NC", D(2026, 7, 15)),  # 14 July
        (D(2026, 8, 24), 1, "months", "NC", D(2026, 9, 25)),  # citizenship day, NC only
        (D(2026, 8, 24), 1, "months", "FR", D(2026, 9, 24)),
        (D(2026, 1, 31), 1, "months", "NC", D(2026, 3, 2)),  # 28 Feb 2026, a Saturday
        (D(2028, 1, 31), 1, "months", "NC", D(2028, 2, 29)),  # leap year
        # PLIE: fiche de liaison 15 days after the orientation or the exit (004)
        (D(2026, 4, 22), 15, "calendar_days", "FR", D(2026, 5, 7)),
        (D(2026, 4, 23), 15, "calendar_days", "FR", D(2026, 5, 11)),  # Friday 8 May
        # PLIE-L4: bilan done 2 months after the start; PLIE final report 1 month after the end
        (D(2026, 3, 31), 2, "months", "FR", D(2026, 6, 1)),  # 31 May, a Sunday
        (D(2026, 12, 31), 1, "months", "FR", D(2027, 2, 1)),  # 31 Jan 2027, a Sunday
    ],
)
def test_due_at_rolling_forward(event_at, offset, unit, territory, expected):
    """The « forward » policy: 002 II §3, « décalée au premier jour ouvré suivant »."""
    assert due_at(event_at, offset, unit, territory, roll="forward") == expected


# Issue 19 point 7: a delay worded « avant » / « au plus tard » / « dans un délai maximum
# de » never moves past its day. Each row: the rule's wording, its event, offset, unit,
# policy and the due date (2026 calendar, metropolitan France).
@pytest.mark.parametrize(
    ("event_at", "offset", "unit", "roll", "expected"),
    [
        # 002 II §3 « dans un maximum de huit jours calendaires »: 14/03 is a Saturday
        (D(2026, 3, 6), 8, "calendar_days", "stay", D(2026, 3, 14)),
        # 002 II §4 « dans un délai maximum de 48 heures »: Sunday 10:00 stays
        (T(2026, 3, 6, 10, 0), 48, "hours", "stay", T(2026, 3, 8, 10, 0)),
        # 004 Lots 1-4 « Dans les 15 jours suivant »: Friday 8 May (holiday) stays
        (D(2026, 4, 23), 15, "calendar_days", "stay", D(2026, 5, 8)),
        # 001 « au plus tard 1 mois après la fin de la session »: Saturday 28/02 stays
        (D(2026, 1, 31), 1, "months", "stay", D(2026, 2, 28)),
        # 002 II §5 « avant la fin du 6ème mois »: last day Sunday 14/06/2026 → Friday 12/06
        (D(2026, 6, 14), 0, "calendar_days", "back", D(2026, 6, 12)),
        # ... Tuesday 14 July (national holiday) → Monday 13 July
        (D(2026, 7, 14), 0, "calendar_days", "back", D(2026, 7, 13)),
        # ... a working day does not move
        (D(2026, 7, 15), 0, "calendar_days", "back", D(2026, 7, 15)),
        # a timestamp keeps its time of day
        (T(2026, 3, 6, 10, 0), 48, "hours", "back", T(2026, 3, 6, 10, 0)),
    ],
)
def test_due_at_never_past_its_day(event_at, offset, unit, roll, expected):
    due = due_at(event_at, offset, unit, "FR", roll=roll)
    assert due == expected


def test_due_at_stays_by_default():
    """A rule that says nothing keeps its day (was: moved to the next working day)."""
    assert due_at(D(2026, 3, 6), 8, "calendar_days", "FR") == D(2026, 3, 14)


def test_due_at_refuses_an_unknown_roll():
    with pytest.raises(ValueError, match="Report de l'échéance : « later » inconnu"):
        due_at(D(2026, 3, 6), 8, "calendar_days", "FR", roll="later")


@pytest.mark.parametrize(
    ("offset", "unit", "message"),
    [
        (2, "weeks", "Unité du délai : « weeks » inconnue"),
        (-1, "calendar_days", "Délai : -1 est négatif"),
    ],
)
def test_due_at_refuses_a_bad_rule(offset, unit, message):
    with pytest.raises(ValueError, match=message):
        due_at(D(2026, 3, 6), offset, unit, "FR")


def test_plie_interim_cutoffs():
    assert fixed_cutoffs(2026) == [
        Cutoff("june", "Bilan intermédiaire (chiffres au 31 mai)", D(2026, 5, 31), D(2026, 6, 15)),
        # 31 October 2026 is a Saturday: the text says "en octobre", so it does not move
        Cutoff(
            "october",
            "Bilan intermédiaire (chiffres au 30 septembre)",
            D(2026, 9, 30),
            D(2026, 10, 31),
        ),
    ]


def test_cutoffs_can_be_chosen_per_lot():
    june_only = PLIE_INTERIM_CUTOFFS[:1]
    assert [(c.figures_at, c.due) for c in fixed_cutoffs(2027, june_only)] == [
        (D(2027, 5, 31), D(2027, 6, 15))
    ]


def test_every_seeded_rule_says_how_it_rolls():
    """Issue 19 point 7: seeds/deadline_rules.yaml says, per rule, whether its due date
    rolls forward, back or stays; every rule there is a deliverable due « avant », « au
    plus tard », « dans un délai maximum de » or « dans les N jours »: none moves past its
    day (002 II §3's roll forward is for the end date of a support, not a deliverable)."""
    from pathlib import Path

    import yaml

    rows = yaml.safe_load(
        (Path(__file__).parents[2] / "seeds" / "deadline_rules.yaml").read_text("utf-8"))
    rolls = {row["code"]: row.get("roll") for row in rows}
    assert all(roll in ("stay", "back") for roll in rolls.values()), rolls
    # 002 II §5 « avant la fin du 6ème mois »: comes earlier when that day is not worked
    assert rolls["csp_intermediate_report"] == "back"
    # 002 II §4 « dans un délai maximum de 48 heures »
    assert rolls["csp_contract_copy"] == "stay"
