"""Workshops and their attendance sheets (émargements), internships: which days fit.

Plain values in, :class:`TransitionRefused` with a French message out, as in
``rules/lifecycle.py``. The services check the programmes, then call these for the dates.
"""

from __future__ import annotations

from datetime import date

from backoffice.rules.lifecycle import TransitionRefused, _fmt


def _within(day: date, starts_on: date, ends_on: date | None) -> bool:
    return starts_on <= day and (ends_on is None or day <= ends_on)


def _dates(starts_on: date, ends_on: date | None) -> str:
    """« du 01/03/2026 au 30/06/2026 », or « à partir du 01/03/2026 » without an end."""
    if ends_on is None:
        return f"à partir du {_fmt(starts_on)}"
    return f"du {_fmt(starts_on)} au {_fmt(ends_on)}"


def check_workshop_day(
    held_on: date, session: str, starts_on: date, ends_on: date | None
) -> None:
    """A workshop of a session is held between the session's first and last day: a
    session is the module that gathers its group (001 « Organisation » : « modules
    rassemblant plusieurs bénéficiaires »)."""
    if not _within(held_on, starts_on, ends_on):
        raise TransitionRefused(
            f"Date de l'atelier : le {_fmt(held_on)} est hors de la session « {session} » "
            f"({_dates(starts_on, ends_on)}) ; choisissez une autre session ou aucune"
        )


def check_session_days(
    starts_on: date, ends_on: date | None, workshops: list[tuple[str, date]]
) -> None:
    """A session's corrected dates still hold its workshops, given as (title, day)."""
    for title, held_on in workshops:
        if not _within(held_on, starts_on, ends_on):
            raise TransitionRefused(
                f"Dates de la session : son atelier « {title} » du {_fmt(held_on)} en "
                f"sortirait ; déplacez-le d'abord"
            )


def check_attendance_day(held_on: date, entry_date: date, person: str) -> None:
    """A person signs a workshop's sheet on or after entering the path: the path starts
    with the action (004 Lot 1 : « la date démarrage de l'action et l'atelier sur lequel
    est positionné le participant »), not before."""
    if held_on < entry_date:
        raise TransitionRefused(
            f"Parcours : {person}, date d'entrée le {_fmt(entry_date)}, après "
            f"l'atelier du {_fmt(held_on)} ; corrigez la date d'entrée ou choisissez un "
            f"autre atelier"
        )


def check_internship_days(starts_on: date, entry_date: date, exit_date: date | None) -> None:
    """An internship or immersion is a period of the path: it starts on or after the entry
    and not after the exit (001 : « Ils devront obligatoirement intégrer une période de
    stage en entreprise » ; 004 Lot 3 : the immersion phase follows the shared diagnosis)."""
    if starts_on < entry_date:
        raise TransitionRefused(
            f"Début du stage : il ne peut pas précéder l'entrée dans le parcours "
            f"({_fmt(entry_date)})"
        )
    if exit_date is not None and starts_on > exit_date:
        raise TransitionRefused(
            f"Début du stage : il ne peut pas suivre la sortie du parcours ({_fmt(exit_date)})"
        )


def check_contact_day(occurs_on: date, entry_date: date) -> None:
    """A contact (interview, exchange) belongs to the path it is recorded on: it happens
    on or after the entry (issue 20 §5), as the workshops signed on the path do."""
    if occurs_on < entry_date:
        raise TransitionRefused(
            f"Date et heure : le contact du {_fmt(occurs_on)} précède l'entrée dans le "
            f"parcours ({_fmt(entry_date)}) ; corrigez la date ou choisissez le bon parcours"
        )
