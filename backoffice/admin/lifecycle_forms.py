"""The short forms of the lifecycle actions (issue 3): commission decisions, purchase
order, start of a path, next phase, suspension, resumption, abandon, exit, end of follow-up.

Plain WTForms with French messages; the CSRF token is checked by Flask-WTF's CSRFProtect
for every POST (the template writes it). The choices that come from the database are
filled by the `choices_*` helpers below; the rules themselves are checked by the services
(`services/lifecycle.py`), never here — a form only says « this is not a date ».
"""
from datetime import date

from flask_admin.model.fields import AjaxSelectField
from sqlalchemy import select
from wtforms import (
    BooleanField,
    Form,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    InputRequired,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)

from ..enums import WORKSHOP_MARKS, AbandonReason, Attendance, ContractKind, Role
from ..models import (
    BarrierType,
    Commission,
    ExitType,
    ProgrammeSession,
    PurchaseOrder,
    SuspensionReason,
    User,
)
from ..rules.exits import FIELD_LABELS
from ..rules.lifecycle import (
    DEFAULT_VALIDATED_MONTHS,
    MAX_VALIDATED_MONTHS,
    MIN_VALIDATED_MONTHS,
)
from ..value_ranges import is_blank
from .fields import FrenchDateField, FrenchDateTimeField
from .labels import LABELS

NONE = ""  # the « — » choice of an optional select


def options(pairs) -> list[SelectChoice]:
    """(value, French label) pairs as select options."""
    return [SelectChoice(value, label) for value, label in pairs]


#: 001 « Évaluation »: « niveau d'atteinte des objectifs » (0 to 3).
GOAL_ATTAINMENT_CHOICES = options([
    (NONE, "—"),
    ("0", "0 — Objectifs non atteints"),
    ("1", "1 — Objectifs peu atteints"),
    ("2", "2 — Objectifs partiellement atteints"),
    ("3", "3 — Objectifs atteints"),
])
SATISFACTION_CHOICES = options([
    (NONE, "—"),
    ("1", "1 — Pas du tout satisfait"),
    ("2", "2 — Peu satisfait"),
    ("3", "3 — Moyennement satisfait"),
    ("4", "4 — Satisfait"),
    ("5", "5 — Très satisfait"),
])


def optional_int(value):
    """Coerce a select's value: the blank choice is None, anything else an int."""
    if value in (None, NONE, "__None"):
        return None
    return int(value)


class VisibleInputRequired(InputRequired):
    """InputRequired where spaces and invisible characters alone count as nothing typed
    (issue 18 §4: a refusal « motivé » by three spaces)."""

    def __call__(self, form, field):
        super().__call__(form, field)
        if isinstance(field.data, str) and is_blank(field.data):
            field.errors[:] = []
            raise StopValidation(self.message)


def required(label: str) -> InputRequired:
    return VisibleInputRequired(f"{label} : obligatoire.")


def date_field(label: str, optional: bool = False) -> FrenchDateField:
    validators = [Optional()] if optional else [required(label)]
    return FrenchDateField(label, validators=validators)


def not_in_future(form, field) -> None:
    """A decision or an event cannot be dated after today (`form.today`)."""
    today = getattr(form, "today", None)
    if field.data is not None and today is not None and field.data > today:
        raise ValidationError(
            f"{field.label.text} : elle ne peut pas être dans le futur "
            f"(aujourd'hui : {today:%d/%m/%Y})."
        )


class ActionForm(Form):
    """A lifecycle form: French WTForms messages, `today` for the date checks."""

    class Meta:
        locales = ("fr_FR", "fr")

    def __init__(self, formdata=None, today: date | None = None, **kwargs):
        super().__init__(formdata, **kwargs)
        self.today = today

    def drop(self, *names: str) -> None:
        """Remove fields this case does not ask (they are then neither shown nor read)."""
        for name in names:
            if name in self._fields:
                del self[name]


# --- referrals (prescriptions) ---------------------------------------------------------

#: the « new commission » choice: created with the decision, on its date (issue 20 §7)
NEW_COMMISSION = "new"


def commission_choice(value):
    """Coerce the commission select: blank → None, « new » kept, otherwise an id."""
    return NEW_COMMISSION if value == NEW_COMMISSION else optional_int(value)


class DecisionForm(ActionForm):
    """Validate or defer: the commission, the date; DEL-L1 also the validated months."""

    commission = SelectField("Commission", coerce=commission_choice, validate_choice=True)
    decided_on = date_field("Date de la décision")
    validated_months = IntegerField(
        "Durée validée (mois)", default=DEFAULT_VALIDATED_MONTHS,
        validators=[Optional(), NumberRange(
            MIN_VALIDATED_MONTHS, MAX_VALIDATED_MONTHS,
            f"Durée validée (mois) : de {MIN_VALIDATED_MONTHS} à {MAX_VALIDATED_MONTHS} mois "
            f"(001 « Organisation »).")],
        description="Fixée par la commission pour DEL-L1 (7 mois en moyenne, 001).",
        render_kw={"min": MIN_VALIDATED_MONTHS, "max": MAX_VALIDATED_MONTHS},
    )

    def validate_decided_on(self, field):
        not_in_future(self, field)


class RejectForm(DecisionForm):
    reason = TextAreaField("Motif du refus", validators=[required("Motif du refus")])


class DeferForm(DecisionForm):
    """« Ajourner » asks why and to which commission (issue 20 §7): a planned one, or
    the date of a new one created with the decision (one transaction)."""

    reason = TextAreaField("Motif de l'ajournement",
                           validators=[required("Motif de l'ajournement")])
    deferred_to = SelectField("Reportée à la commission", coerce=optional_int,
                              validate_choice=True)
    next_commission_on = FrenchDateField(
        "ou date d'une nouvelle commission", validators=[Optional()],
        description="Si aucune commission n'est encore prévue : elle est créée avec "
                    "l'ajournement.")


class WithdrawForm(ActionForm):
    decided_on = date_field("Date du désistement")
    reason = TextAreaField("Motif du désistement")

    def validate_decided_on(self, field):
        not_in_future(self, field)


def withdraw_form_class(person_loader) -> type[WithdrawForm]:
    """The withdrawal form with a searchable select of the replacement candidate
    (`person_loader`: the referral view's AJAX search of beneficiaries)."""

    class WithdrawWithReplacementForm(WithdrawForm):
        replacement = AjaxSelectField(
            person_loader, "Candidat de remplacement", allow_blank=True, blank_text="—",
            description="Facultatif, une seule prescription sélectionnée : crée la "
                        "prescription du remplaçant, liée à celle-ci, en attente de la "
                        "commission.",
        )

    return WithdrawWithReplacementForm


class NonEntryForm(ActionForm):
    decided_on = date_field("Date du constat")
    barrier_types = SelectMultipleField(
        "Freins ayant empêché l'entrée", coerce=int,
        validators=[required("Freins ayant empêché l'entrée")],
    )
    notes = TextAreaField("Observations")

    def validate_decided_on(self, field):
        not_in_future(self, field)


class PurchaseOrderForm(ActionForm):
    number = StringField("Numéro du bon de commande",
                         validators=[required("Numéro du bon de commande")])
    issued_on = date_field("Date d'émission")
    company_name = StringField("Entreprise en redressement ou liquidation (ARJLJ)")
    support_start_on = date_field("Date de début de la prestation (ARJLJ)", optional=True)


class ReceiveOrderForm(ActionForm):
    """When the order reached the provider: starts the ARJLJ 2-working-day clock (002 I §4)."""

    received_at = FrenchDateTimeField("Reçu le", validators=[required("Reçu le")])

    def validate_received_at(self, field) -> None:
        if field.data is not None and self.today is not None and field.data.date() > self.today:
            raise ValidationError(
                f"Reçu le : elle ne peut pas être dans le futur "
                f"(aujourd'hui : {self.today:%d/%m/%Y})."
            )


class StartPathForm(ActionForm):
    entry_date = date_field("Date d'entrée")
    referent = SelectField("Référent", coerce=optional_int, validate_choice=True)
    programme_session = SelectField("Session", coerce=optional_int, validate_choice=True)
    purchase_order = SelectField("Bon de commande", coerce=optional_int, validate_choice=True)


# --- enrolments (parcours) -------------------------------------------------------------

class NextPhaseForm(ActionForm):
    on_date = date_field("Date de passage à la phase suivante")
    derogation = BooleanField(
        "Dérogation (phase en cours plus longue que prévu)",
        description="002 §4 : phase 1 CSP jusqu'à 8 semaines par dérogation au lieu de 4.",
    )


class SuspendForm(ActionForm):
    reason = SelectField("Motif de la suspension", coerce=optional_int, validate_choice=True,
                         validators=[required("Motif de la suspension")])
    starts_on = date_field("Début de la suspension")
    ends_on = date_field("Fin de la suspension", optional=True)
    notes = TextAreaField("Observations")


class ResumeForm(ActionForm):
    on_date = date_field("Date de reprise")


class AbandonForm(ActionForm):
    on_date = date_field("Date de l'abandon")
    reason = SelectField("Motif de l'abandon",
                         choices=options([(NONE, "—"), *AbandonReason.choices()]),
                         validators=[required("Motif de l'abandon")])
    difficulties = TextAreaField(LABELS["difficulties"])
    recommendations = TextAreaField(LABELS["recommendations"])


class ExitTypeChoiceForm(ActionForm):
    """First step of the exit: which type (the facts asked depend on it)."""

    exit_type = SelectField("Type de sortie", coerce=optional_int, validate_choice=True,
                            validators=[required("Type de sortie")])


CONTRACT_CHOICES = options([(NONE, "—"), *ContractKind.choices()])


class ExitForm(ActionForm):
    """Second step: the exit date, the facts the type needs, the evaluation (001)."""

    exit_type = HiddenField()
    exit_date = date_field("Date de sortie")
    contract_kind = SelectField(FIELD_LABELS["contract_kind"], choices=CONTRACT_CHOICES)
    contract_months = IntegerField(FIELD_LABELS["contract_months"], validators=[Optional()])
    hours_per_month = IntegerField(FIELD_LABELS["hours_per_month"], validators=[Optional()],
                                   description="Temps partiel seulement ; vide = temps plein.")
    employer = StringField(FIELD_LABELS["employer"])
    training_title = StringField(FIELD_LABELS["training_title"])
    followup_contract_kind = SelectField(LABELS["followup_contract_kind"],
                                         choices=CONTRACT_CHOICES)
    followup_contract_months = IntegerField(LABELS["followup_contract_months"],
                                            validators=[Optional()])
    exit_reason = StringField("Précision sur la sortie")
    goal_attainment = SelectField(LABELS["goal_attainment"], choices=GOAL_ATTAINMENT_CHOICES,
                                  coerce=optional_int)
    satisfaction = SelectField(LABELS["satisfaction"], choices=SATISFACTION_CHOICES,
                               coerce=optional_int)
    difficulties = TextAreaField(LABELS["difficulties"])
    recommendations = TextAreaField(LABELS["recommendations"])
    no_internship_reason = TextAreaField(
        LABELS["no_internship_reason"],
        description="Obligatoire pour clôturer à la fin prévue un parcours sans stage "
                    "(001 : « obligatoirement intégrer une période de stage en entreprise »).")


def yes_no(value):
    """Coerce a Oui / Non select: "yes" → True, "no" → False, blank → None."""
    return {"yes": True, "no": False, True: True, False: False}.get(value)


EMPLOYED_LABEL = "En emploi à la fin du suivi"


class EndFollowUpForm(ActionForm):
    on_date = date_field("Fin du suivi après la sortie")
    # 002 II §9: « en situation d'emploi dans un délai de 6 mois après la reprise
    # d'emploi » is counted from this answer (indicators/csp.py).
    employed = SelectField(
        EMPLOYED_LABEL, coerce=yes_no, validate_choice=False,
        choices=[("", "— choisir —"), ("yes", "Oui, toujours en emploi ou à son compte"),
                 ("no", "Non, pas ou plus en emploi")],
        validators=[InputRequired(f"{EMPLOYED_LABEL} : choisir Oui ou Non.")])


# --- choices from the database ---------------------------------------------------------

def _with_blank(rows) -> list[SelectChoice]:
    return options([(NONE, "—"), *rows])


def commission_choices(session, programmes, today: date) -> list[SelectChoice]:
    """The commissions that may decide: today's first (or, for one programme without a
    commission today, a new one created with the decision), then the past ones; the
    planned ones last (issue 20 §7: the commission decides in session)."""
    rows = session.scalars(select(Commission)
                           .where(Commission.programme_id.in_([p.id for p in programmes]))
                           .order_by(Commission.held_on.desc(), Commission.id)).all()
    held = sorted(rows, key=lambda row: (row.held_on != today, row.held_on > today))
    new = []
    if len(programmes) == 1 and not any(row.held_on == today for row in rows):
        new = [(NEW_COMMISSION, f"Nouvelle commission {programmes[0].code} à la date de la "
                                "décision (créée avec elle)")]
    return _with_blank([*new, *((row.id, str(row)) for row in held)])


def deferral_choices(session, programmes, today: date) -> list[SelectChoice]:
    """The planned commissions a referral can be deferred to: after today, soonest first."""
    rows = session.scalars(select(Commission)
                           .where(Commission.programme_id.in_([p.id for p in programmes]),
                                  Commission.held_on > today)
                           .order_by(Commission.held_on, Commission.id)).all()
    return _with_blank((row.id, str(row)) for row in rows)


def barrier_type_choices(session) -> list[SelectChoice]:
    rows = session.scalars(select(BarrierType).order_by(BarrierType.sort_order,
                                                        BarrierType.label)).all()
    return options((row.id, row.label) for row in rows)


def counsellor_choices(session) -> list[SelectChoice]:
    rows = session.scalars(select(User).where(User.role == Role.COUNSELLOR,
                                              User.active.is_(True)).order_by(User.name)).all()
    return _with_blank((row.id, row.name) for row in rows)


def session_choices(session, programme_id: int) -> list[SelectChoice]:
    rows = session.scalars(select(ProgrammeSession)
                           .where(ProgrammeSession.programme_id == programme_id)
                           .order_by(ProgrammeSession.starts_on.desc())).all()
    return _with_blank((row.id, f"{row.label} (début le {row.starts_on:%d/%m/%Y})")
                       for row in rows)


def order_choices(session, programme_id: int) -> list[SelectChoice]:
    rows = session.scalars(select(PurchaseOrder).where(PurchaseOrder.programme_id == programme_id)
                           .order_by(PurchaseOrder.issued_on.desc())).all()
    return _with_blank((row.id, f"BC {row.number} du {row.issued_on:%d/%m/%Y}") for row in rows)


def suspension_reason_choices(session) -> list[SelectChoice]:
    rows = session.scalars(select(SuspensionReason).order_by(SuspensionReason.sort_order,
                                                             SuspensionReason.label)).all()
    return _with_blank((row.id, row.label) for row in rows)


def exit_types_for(session, scheme: str) -> list[ExitType]:
    """The exit types offered for a programme's exit scheme (`ExitType.schemes` lists it)."""
    rows = session.scalars(select(ExitType).order_by(ExitType.sort_order, ExitType.label)).all()
    return [row for row in rows
            if scheme in [s.strip() for s in (row.schemes or "").split(",")]]


# --- workshops: the attendance sheet (émargement) -----------------------------------------

NOT_ON_SHEET = "— pas sur la feuille"


class AttendanceSheetForm(ActionForm):
    """One mark per person the sheet offers (services.activity.sheet_lines); its fields
    are added by :func:`attendance_sheet_form`."""

    submit_label = "Enregistrer la feuille"

    def marks(self) -> dict[int, Attendance | None]:
        """{path id: the chosen mark, None when the person is not on the sheet}."""
        chosen = {line.path.id: self[f"path_{line.path.id}"].data for line in self.lines}
        return {path_id: Attendance(mark) if mark else None for path_id, mark in chosen.items()}


def attendance_sheet_form(lines, formdata, *, intro: str) -> AttendanceSheetForm:
    """The sheet's form: a select per person, set to their current mark."""
    choices = [("", NOT_ON_SHEET)] + [(a.value, a.label) for a in WORKSHOP_MARKS]

    class Sheet(AttendanceSheetForm):
        pass

    for line in lines:
        person = line.path.beneficiary
        setattr(Sheet, f"path_{line.path.id}", SelectField(
            f"{person.full_name} (parcours n° {line.path.id}, entrée en parcours le "
            f"{line.path.entry_date:%d/%m/%Y})",
            choices=choices, default=line.attendance.value if line.attendance else "",
            validate_choice=True))
    form = Sheet(formdata)
    form.lines, form.intro = lines, intro
    return form
