"""DEL province Sud — bilan de fin de parcours of a session (001 « Évaluation »).

« Une liste nominative des bénéficiaires ainsi que le niveau d'atteinte des objectifs de
chaque bénéficiaire », due one month after the end of the session: the DEL workbook
(del_annual.py) restricted to the paths of the session.
"""

from __future__ import annotations

from datetime import date

from ..indicators.scope import Scope, ScopeError
from . import del_annual

TITLE = "Bilan de fin de parcours DEL"


def build(
    session,
    target,
    scope: Scope,
    *,
    producer: str,
    produced_on: date,
    pseudonym_key: str | None = None,
) -> None:
    """Write the end-of-path workbook of ``scope.session_id``."""
    if scope.session_id is None:
        raise ScopeError("Bilan de fin de parcours : choisir une session.")
    del_annual.build(
        session,
        target,
        scope,
        producer=producer,
        produced_on=produced_on,
        pseudonym_key=pseudonym_key,
        title=f"{TITLE} — {scope.session_label}",
    )
