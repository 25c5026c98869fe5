"""Menu « Commission »: referrals (prescriptions) and their decisions, commissions,
purchase orders.

The referral list carries the commission's bulk actions (issue 3, names relied on by
other tools): `validate`, `reject`, `defer`, `withdraw`, `not_entered`,
`create_purchase_order`; a validated referral's page has « Démarrer le parcours ».
Each one calls one service of `services/lifecycle.py` (see admin/lifecycle.py).
"""
from datetime import datetime

from flask_admin import expose
from flask_admin.actions import action
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..auth.permissions import can
from ..enums import ReferralAction, ReferralStatus, Role
from ..extensions import db
from ..models import (
    BarrierType,
    Commission,
    ProgrammeSession,
    PurchaseOrder,
    PurchaseOrderLine,
    Referral,
    User,
)
from ..rules.lifecycle import referral_actions_allowed
from ..services import lifecycle as service
from . import lifecycle_forms as forms
from .base import BENEFICIARY_SEARCH, ProtectedModelView, current_role
from .documents import DocumentsOnDetails
from .fields import EnumIsFilter, enum_filters
from .lifecycle import (
    LifecycleMixin,
    LifecycleRowAction,
    checked_by_the_rules,
    current_day,
    field_value,
    plural,
)
from .todo_filters import ReferralToDecideFilter, ReferralWithoutPathFilter

CATEGORY = "Commission"

REFERRAL_SEARCH = {"fields": ("id", "prescriber_name")}


class ReferralView(DocumentsOnDetails, LifecycleMixin, ProtectedModelView):
    document_subject = "referral"  # its decision letter, a non-entry record (issue 21 §3)
    model_class = Referral
    slug = "referrals"
    menu_name = "Prescriptions"
    menu_category = CATEGORY
    area = "referrals"

    column_list = ("id", "beneficiary", "programme", "referred_on", "status",
                   "prescriber_name", "commission", "decided_on", "deferred_to")
    column_select_related_list = (Referral.beneficiary, Referral.programme, Referral.commission)
    list_eager_loads = (joinedload(Referral.commission).joinedload(Commission.programme),
                        joinedload(Referral.deferred_to).joinedload(Commission.programme))
    column_default_sort = [("referred_on", True), ("id", True)]
    person_search = True  # the prescriber: its own filter
    column_searchable_list = ("beneficiary.last_name", "beneficiary.first_name",
                              "beneficiary.external_id")
    column_filters = (
        *enum_filters(Referral.status, "Statut", ReferralStatus),
        "programme.code", "referred_on", "decided_on", "prescription_place", "prescriber_name",
        ReferralWithoutPathFilter(), ReferralToDecideFilter(),
    )
    # The commission opens the referrals on its working view (issue 20 §3 and §7), the
    # coordinator on the validated people still waiting for a path.
    _to_decide = ("À décider en commission", ((ReferralToDecideFilter, None, "1"),))
    first_views = {
        Role.COMMISSION: _to_decide,
        Role.ADMIN: _to_decide,
        Role.COORDINATOR: ("Validées sans parcours",
                           ((EnumIsFilter, "Statut", ReferralStatus.VALIDATED.name),
                            (ReferralWithoutPathFilter, None, "1"))),
    }
    # The decision (status, commission, decider, duration, replacement, non-entry) is
    # recorded by the commission's actions only (001 « Organisation »); it is shown on
    # the record's page, never typed in this form.
    form_columns = (
        "beneficiary", "programme", "referred_on", "prescriber_name", "prescription_place",
        "reason",
    )
    column_details_list = (
        "id", "beneficiary", "programme", "referred_on", "prescriber_name",
        "prescription_place", "reason", "status", "commission", "decided_on", "decided_by",
        "decision_reason", "deferred_to", "validated_months", "replaces", "non_entry_barriers",
        "non_entry_notes", "referent", "created_at",
    )
    form_ajax_refs = {"beneficiary": BENEFICIARY_SEARCH}
    column_labels = {"reason": "Motif de la prescription", "referent": "Référent pressenti"}
    # --- lifecycle actions (issue 3) --------------------------------------------------
    details_template = "admin/lifecycle/details.html"
    edit_template = "admin/lifecycle/edit.html"
    lifecycle_endpoint = ".decide_view"
    # In the order a commission takes them (issue 20 §7): the list's menu, the record's
    # buttons and the row's icons follow it.
    lifecycle_actions = {
        "validate": (ReferralAction.VALIDATE.label, "Impossible de valider"),
        "defer": (ReferralAction.DEFER.label, "Impossible d'ajourner"),
        "reject": (ReferralAction.REJECT.label, "Impossible de refuser"),
        "withdraw": (ReferralAction.WITHDRAW.label, "Impossible d'enregistrer le désistement"),
        "not_entered": (ReferralAction.NOT_ENTERED.label,
                        "Impossible d'enregistrer la non-entrée"),
        "create_purchase_order": ("Créer un bon de commande",
                                  "Impossible de créer le bon de commande"),
        "start_path": ("Démarrer le parcours", "Impossible de démarrer le parcours"),
    }
    single_record_actions = frozenset({"start_path"})
    lifecycle_columns = (
        ("N°", lambda r: r.id),
        ("Bénéficiaire", lambda r: r.beneficiary),
        ("Dispositif", lambda r: r.programme.code),
        ("Prescrite le", lambda r: f"{r.referred_on:%d/%m/%Y}"),
        ("Statut", lambda r: r.status.label),
        ("Reportée à", lambda r: r.deferred_to or ""),
    )
    # each row offers only the decisions its status allows (issue 20 §7)
    column_extra_row_actions = [
        LifecycleRowAction("validate", "fa fa-check", ReferralAction.VALIDATE.label,
                           ".decide_view"),
        LifecycleRowAction("defer", "fa fa-clock-o", ReferralAction.DEFER.label,
                           ".decide_view"),
        LifecycleRowAction("reject", "fa fa-ban", ReferralAction.REJECT.label,
                           ".decide_view"),
        LifecycleRowAction("start_path", "fa fa-play-circle", "Démarrer le parcours",
                           ".decide_view"),
    ]

    def on_model_change(self, form, model, is_created):
        if not is_created:
            with checked_by_the_rules():
                service.correct_referral(db.session, model)

    def status_allows(self, name: str, row) -> bool:
        if name == "start_path":  # once: a second path for one referral is refused
            return row.status is ReferralStatus.VALIDATED and not row.has_path
        if name == "create_purchase_order":
            return row.status is ReferralStatus.VALIDATED
        return ReferralAction(name) in referral_actions_allowed(row.status)

    @expose("/decide/", methods=("GET", "POST"))
    def decide_view(self):
        """/admin/referrals/decide/?action=validate&ids=1,2 — the form of an action."""
        return self.lifecycle_page()

    @action("validate", ReferralAction.VALIDATE.label, None)
    def action_validate(self, ids):
        return self.bulk_to_form("validate", ids)

    @action("reject", ReferralAction.REJECT.label, None)
    def action_reject(self, ids):
        return self.bulk_to_form("reject", ids)

    @action("defer", ReferralAction.DEFER.label, None)
    def action_defer(self, ids):
        """Its form asks the reason and the commission it is deferred to."""
        return self.bulk_to_form("defer", ids)

    @action("withdraw", ReferralAction.WITHDRAW.label, None)
    def action_withdraw(self, ids):
        return self.bulk_to_form("withdraw", ids)

    @action("not_entered", ReferralAction.NOT_ENTERED.label, None)
    def action_not_entered(self, ids):
        return self.bulk_to_form("not_entered", ids)

    @action("create_purchase_order", "Créer un bon de commande", None)
    def action_create_purchase_order(self, ids):
        return self.bulk_to_form("create_purchase_order", ids)

    # --- the forms --------------------------------------------------------------------
    def _decision_form(self, form_class, rows, formdata, months: bool):
        form = form_class(formdata, today=current_day(), data={"decided_on": current_day()})
        programmes = list({row.programme_id: row.programme for row in rows}.values())
        form.commission.choices = forms.commission_choices(db.session, programmes,
                                                           current_day())
        if formdata is None and len(programmes) == 1 and programmes[0].requires_commission:
            # 001 « Organisation »: the entry is validated by a commission; today's is
            # proposed, or a new one created with the decision (issue 20 §7)
            form.commission.data = db.session.scalar(
                select(Commission.id).where(Commission.programme_id == programmes[0].id,
                                            Commission.held_on == current_day())
                .order_by(Commission.id).limit(1)) or forms.NEW_COMMISSION
        with_months = [row.programme for row in rows if row.programme.duration_set_by_commission]
        if months and with_months:
            if formdata is None:
                form.validated_months.data = with_months[0].default_validated_months \
                    or form.validated_months.data
        elif "validated_months" in form:
            form.drop("validated_months")
        return form

    def form_validate(self, rows, formdata):
        return self._decision_form(forms.DecisionForm, rows, formdata, months=True)

    def form_reject(self, rows, formdata):
        return self._decision_form(forms.RejectForm, rows, formdata, months=False)

    def form_defer(self, rows, formdata):
        form = self._decision_form(forms.DeferForm, rows, formdata, months=False)
        programmes = list({row.programme_id: row.programme for row in rows}.values())
        form.deferred_to.choices = forms.deferral_choices(db.session, programmes,
                                                          current_day())
        if formdata is None and len(form.deferred_to.choices) > 1:
            form.deferred_to.data = int(form.deferred_to.choices[1].value)  # the next one
        return form

    def form_withdraw(self, rows, formdata):
        form_class = forms.withdraw_form_class(self._form_ajax_refs["beneficiary"])
        form = form_class(formdata, today=current_day(), data={"decided_on": current_day()})
        if len(rows) > 1:
            form.drop("replacement")
        return form

    def form_not_entered(self, rows, formdata):
        form = forms.NonEntryForm(formdata, today=current_day(),
                                  data={"decided_on": current_day()})
        form.barrier_types.choices = forms.barrier_type_choices(db.session)
        return form

    def form_create_purchase_order(self, rows, formdata):
        form = forms.PurchaseOrderForm(formdata, today=current_day(),
                                       data={"issued_on": current_day()})
        if not any(row.programme.code in service.ORDERS_NAMING_THE_COMPANY for row in rows):
            form.drop("company_name", "support_start_on")
        return form

    def form_start_path(self, rows, formdata):
        referral = rows[0]
        on_order = db.session.scalar(select(PurchaseOrderLine.order_id)
                                     .where(PurchaseOrderLine.referral_id == referral.id))
        # the référent chosen when the referral came in (issue 23 §6) is proposed
        form = forms.StartPathForm(formdata, today=current_day(), data={
            "entry_date": current_day(), "purchase_order": on_order,
            "referent": referral.referent_id})
        form.referent.choices = forms.counsellor_choices(db.session)
        form.programme_session.choices = forms.session_choices(db.session,
                                                               referral.programme_id)
        form.purchase_order.choices = forms.order_choices(db.session, referral.programme_id)
        return form

    # --- the actions: one service each ---------------------------------------------------
    def _commission(self, rows, form, name: str, on_date) -> Commission | None:
        """The commission chosen in `name`, or the new one « created with the decision »
        (one programme: the form offers it only then), added to this transaction."""
        chosen = field_value(form, name)
        if chosen == forms.NEW_COMMISSION:
            return service.commission_on(db.session, rows[0].programme, on_date)
        return db.session.get(Commission, chosen) if chosen else None

    def _decide(self, action_name: str, rows, form) -> list:
        decided_on = field_value(form, "decided_on") or current_day()
        deferred_to = None
        if action_name == "defer":
            deferred_to = self._commission(rows, form, "deferred_to", decided_on)
            new_on = field_value(form, "next_commission_on")
            if deferred_to is None and new_on is not None:
                deferred_to = service.commission_on(db.session, rows[0].programme, new_on)
        return service.decide_referrals(
            db.session, rows, action_name, self.decider(), decided_on,
            commission=self._commission(rows, form, "commission", decided_on),
            validated_months=field_value(form, "validated_months"),
            reason=field_value(form, "reason"),
            deferred_to=deferred_to,
        )

    def apply_validate(self, rows, form) -> str:
        self._decide("validate", rows, form)
        message = plural(len(rows), "prescription validée", "prescriptions validées")
        months = sorted({row.validated_months for row in rows if row.validated_months})
        if months:
            message += " — durée validée : " + ", ".join(f"{m} mois" for m in months)
        return message + "."

    def apply_reject(self, rows, form) -> str:
        self._decide("reject", rows, form)
        return plural(len(rows), "prescription refusée", "prescriptions refusées") + "."

    def apply_defer(self, rows, form) -> str:
        self._decide("defer", rows, form)
        return (plural(len(rows), "prescription ajournée", "prescriptions ajournées")
                + f", reportée{'s' if len(rows) > 1 else ''} à la {rows[0].deferred_to}.")

    def apply_withdraw(self, rows, form) -> str:
        replacement = field_value(form, "replacement")
        created = self.each(rows, lambda row: service.withdraw_referral(
            db.session, row, self.decider(), form.decided_on.data,
            reason=field_value(form, "reason"),
            replacement_beneficiary_id=replacement.id if replacement is not None else None,
        ))
        message = "Désistement enregistré : " + plural(len(rows), "prescription", "prescriptions")
        for new in created:
            if new is not None:
                message += (f" ; prescription de remplacement n° {new.id} créée pour "
                            f"{new.beneficiary}, en attente de la commission")
        return message + "."

    def apply_not_entered(self, rows, form) -> str:
        barriers = [db.session.get(BarrierType, i) for i in form.barrier_types.data]
        self.each(rows, lambda row: service.record_non_entry(
            db.session, row, self.decider(), form.decided_on.data, barriers,
            field_value(form, "notes")))
        return "Non-entrée enregistrée : " + plural(len(rows), "prescription.", "prescriptions.")

    def apply_create_purchase_order(self, rows, form) -> str:
        order = service.create_purchase_order(
            db.session, rows, form.number.data, form.issued_on.data,
            company_name=field_value(form, "company_name"),
            support_start_on=field_value(form, "support_start_on"),
        )
        return (f"Bon de commande n° {order.number} créé : "
                + plural(len(order.lines), "ligne.", "lignes."))

    def apply_start_path(self, rows, form):
        referent = field_value(form, "referent")
        session_id = field_value(form, "programme_session")
        order_id = field_value(form, "purchase_order")
        enrolment = service.start_path(
            db.session, rows[0], form.entry_date.data, current_day(),
            referent=db.session.get(User, referent) if referent else None,
            programme_session=db.session.get(ProgrammeSession, session_id) if session_id
            else None,
            order=db.session.get(PurchaseOrder, order_id) if order_id else None,
        )
        db.session.flush()
        end = enrolment.planned_end_date
        message = (f"Parcours n° {enrolment.id} ouvert le {enrolment.entry_date:%d/%m/%Y}"
                   + (f" — fin prévue le {end:%d/%m/%Y}" if end else "") + ".")
        return message, self.get_url("enrolments.details_view", id=enrolment.id)


def _minutes(_view, _context, commission, _name):
    """The minutes may name the people discussed: shown only to who reads the referrals
    (a funder's account reads the commissions' dates and members, issue 18 §1)."""
    if not can(current_role(), "referrals", "read"):
        return "Non communiqué (le procès-verbal peut nommer des personnes)"
    return commission.minutes


class CommissionView(DocumentsOnDetails, ProtectedModelView):
    model_class = Commission
    slug = "commissions"
    menu_name = "Commissions"
    menu_category = CATEGORY
    area = "commissions"
    document_subject = "commission"  # its minutes and decision letters (issue 21 §3)

    column_list = ("id", "programme", "held_on", "members_present")
    column_select_related_list = (Commission.programme,)
    column_default_sort = ("held_on", True)
    column_filters = ("programme.code", "held_on")
    column_details_list = ("id", "programme", "held_on", "members_present", "minutes",
                           "referrals")
    form_columns = ("programme", "held_on", "members_present", "minutes")
    column_formatters_detail = {"minutes": _minutes}


class PurchaseOrderView(DocumentsOnDetails, LifecycleMixin, ProtectedModelView):
    document_subject = "purchase_order"  # the ARJLJ final report (issue 21 §3)
    model_class = PurchaseOrder
    slug = "purchase-orders"
    menu_name = "Bons de commande"
    menu_category = CATEGORY
    area = "purchase_orders"

    column_list = ("id", "number", "funder", "programme", "issued_on", "received_on",
                   "beneficiary_count", "company_name", "support_start_on")
    column_select_related_list = (PurchaseOrder.funder, PurchaseOrder.programme)
    column_default_sort = ("issued_on", True)
    column_searchable_list = ("number", "company_name")
    column_filters = ("programme.code", "issued_on", "received_on")
    form_columns = ("funder", "programme", "number", "issued_on", "received_on",
                    "received_at", "beneficiary_count", "company_name", "support_start_on",
                    "last_contract_rupture_on")
    column_labels = {"company_name": "Entreprise en redressement (ARJLJ)"}
    date_order = (("issued_on", "received_on",
                   "Date de réception : elle ne peut pas être antérieure à la date "
                   "d'émission ({:%d/%m/%Y})."),)

    # --- reception (issue 3: « receiving the order sets its reception date ») ---------
    details_template = "admin/lifecycle/details.html"
    edit_template = "admin/lifecycle/edit.html"
    lifecycle_endpoint = ".receive_view"
    lifecycle_actions = {
        "receive_purchase_order": ("Réceptionner le bon de commande",
                                   "Impossible de réceptionner le bon de commande"),
    }
    single_record_actions = frozenset({"receive_purchase_order"})
    lifecycle_columns = (
        ("N°", lambda o: o.number),
        ("Dispositif", lambda o: o.programme.code),
        ("Émis le", lambda o: f"{o.issued_on:%d/%m/%Y}"),
        ("Personnes", lambda o: o.beneficiary_count),
    )
    column_extra_row_actions = [
        LifecycleRowAction("receive_purchase_order", "fa fa-inbox",
                           "Réceptionner le bon de commande", ".receive_view"),
    ]

    def on_model_change(self, form, model, is_created):
        with checked_by_the_rules():
            service.check_purchase_order(model)

    def status_allows(self, name: str, row) -> bool:
        return row.received_at is None and row.received_on is None

    @expose("/receive/", methods=("GET", "POST"))
    def receive_view(self):
        """/admin/purchase-orders/receive/?action=receive_purchase_order&ids=1"""
        return self.lifecycle_page()

    def form_receive_purchase_order(self, rows, formdata):
        form = forms.ReceiveOrderForm(formdata, today=current_day())
        if formdata is None:
            form.received_at.data = datetime.now().replace(second=0, microsecond=0)
        return form

    def apply_receive_purchase_order(self, rows, form) -> str:
        order = service.receive_purchase_order(rows[0], form.received_at.data)
        return (f"Bon de commande n° {order.number} reçu le "
                f"{order.received_at:%d/%m/%Y à %H:%M}.")


class PurchaseOrderLineView(ProtectedModelView):
    model_class = PurchaseOrderLine
    slug = "purchase-order-lines"
    menu_name = "Lignes de bons de commande"
    menu_category = CATEGORY
    area = "purchase_order_lines"  # each line names a person: not a funder's to read

    column_list = ("id", "order", "beneficiary", "referral", "duration_months")
    column_select_related_list = (PurchaseOrderLine.order, PurchaseOrderLine.beneficiary,
                                  PurchaseOrderLine.referral)
    list_eager_loads = (joinedload(PurchaseOrderLine.referral).joinedload(Referral.programme),)
    person_search = True  # the order's number: its own filter
    column_searchable_list = ("beneficiary.last_name", "beneficiary.first_name",
                              "beneficiary.external_id")
    column_filters = ("order.number",)
    form_columns = ("order", "beneficiary", "referral", "duration_months")
    form_ajax_refs = {
        "order": {"fields": ("number",)},
        "beneficiary": BENEFICIARY_SEARCH,
        "referral": REFERRAL_SEARCH,
    }
    column_labels = {"order.number": "Numéro du bon de commande"}

    def on_model_change(self, form, model, is_created):
        with checked_by_the_rules():
            service.check_order_line(db.session, model)
