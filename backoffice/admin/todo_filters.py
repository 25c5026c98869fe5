"""List filters behind the home page's figures (issue 20 §3): each selects the rows its
figure counts, with the same condition (services/worklist.py), so a click on « 12 »
opens a list of 12."""
from datetime import timedelta

from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterEqual, IntEqualFilter
from flask_admin.model.filters import BaseBooleanFilter

from ..models import Enrolment, Referral, Workshop
from ..services import worklist
from . import alerts as alerts_view


class _YesNoFilter(BaseSQLAFilter, BaseBooleanFilter):
    """A yes/no filter whose « oui » applies `condition()` and « non » its negation."""

    label = ""
    model = None

    def __init__(self):
        super().__init__(self.model.id, self.label)

    def condition(self):
        raise NotImplementedError

    def apply(self, query, value, alias=None):
        return query.filter(self.condition() if value == "1" else ~self.condition())


class ReferralWithoutPathFilter(_YesNoFilter):
    """« Sans parcours ouvert : oui » — validated people still waiting to start."""

    label = "Sans parcours ouvert"
    model = Referral

    def condition(self):
        return worklist.without_path()

    def operation(self):
        return "est"


class ReferralToDecideFilter(_YesNoFilter):
    """« À décider en commission : oui » — the commission's working view: pending and
    deferred referrals, so that a referral deferred there stays in sight (issue 20 §7)."""

    label = "À décider en commission"
    model = Referral

    def condition(self):
        return worklist.to_decide()

    def operation(self):
        return "est"


class WorkshopWithoutSheetFilter(_YesNoFilter):
    """« Feuille d'émargement vide : oui » — workshops whose sheet has no line."""

    label = "Feuille d'émargement vide"
    model = Workshop

    def condition(self):
        return worklist.without_attendance_sheet()

    def operation(self):
        return "est"


class HeldBeforeNowFilter(_YesNoFilter):
    """« Déjà tenu : oui » — workshops held before now."""

    label = "Déjà tenu"
    model = Workshop

    def condition(self):
        return Workshop.held_at < alerts_view.current_moment()

    def operation(self):
        return "est"


class WithoutContactForWeeksFilter(FilterEqual):
    """« Sans contact depuis (semaines) égal à 4 » — no contact in the last N weeks."""

    def __init__(self):
        super().__init__(Enrolment.id, "Sans contact depuis (semaines)", data_type=None)

    def clean(self, value):
        return int(value)

    def validate(self, value):
        return str(value).isdigit() and 0 < int(value) <= 520

    def apply(self, query, value, alias=None):
        since = alerts_view.current_moment() - timedelta(weeks=int(value))
        return query.filter(worklist.without_contact_since(since))

    def operation(self):
        return "au moins"


class PathFilter(IntEqualFilter):
    """« Parcours (n°) égal à 12 » — the records of one path (issue 20 §2)."""


class PersonFilter(IntEqualFilter):
    """« Bénéficiaire (n°) égal à 7 » — the records of one person's paths (issue 20 §2)."""


def path_and_person_filters(model) -> tuple:
    """The two filters every list of a path's records offers: by path and by person."""
    return (PathFilter(model.enrolment_id, "Parcours (n°)"),
            PersonFilter("enrolment.beneficiary_id", "Bénéficiaire (n°)"))
