"""Menu « Commission »: referrals (prescriptions), commissions, purchase orders."""
from sqlalchemy.orm import joinedload

from ..enums import ReferralStatus
from ..models import Commission, PurchaseOrder, PurchaseOrderLine, Referral
from .base import ProtectedModelView
from .fields import enum_filters

CATEGORY = "Commission"

BENEFICIARY_SEARCH = {"fields": ("last_name", "first_name", "external_id")}
REFERRAL_SEARCH = {"fields": ("id", "prescriber_name")}


class ReferralView(ProtectedModelView):
    model_class = Referral
    slug = "referrals"
    menu_name = "Prescriptions"
    menu_category = CATEGORY
    area = "referrals"

    column_list = ("id", "beneficiary", "programme", "referred_on", "status",
                   "prescriber_name", "commission", "decided_on")
    column_select_related_list = (Referral.beneficiary, Referral.programme, Referral.commission)
    list_eager_loads = (joinedload(Referral.commission).joinedload(Commission.programme),)
    column_default_sort = ("referred_on", True)
    column_searchable_list = ("beneficiary.last_name", "beneficiary.first_name",
                              "beneficiary.external_id", "prescriber_name")
    column_filters = (
        *enum_filters(Referral.status, "Statut", ReferralStatus),
        "programme.code", "referred_on", "decided_on", "prescription_place", "prescriber_name",
    )
    form_columns = (
        "beneficiary", "programme", "referred_on", "prescriber_name", "prescription_place",
        "reason", "status", "commission", "decided_on", "decided_by", "decision_reason",
        "validated_months", "replaces", "non_entry_barriers", "non_entry_notes",
    )
    form_ajax_refs = {
        "beneficiary": BENEFICIARY_SEARCH,
        "decided_by": {"fields": ("name", "email")},
        "replaces": REFERRAL_SEARCH,
    }
    column_labels = {"reason": "Motif de la prescription"}
    date_order = (("referred_on", "decided_on",
                   "Date de décision : elle ne peut pas être antérieure à la date de "
                   "prescription ({:%d/%m/%Y})."),)


class CommissionView(ProtectedModelView):
    model_class = Commission
    slug = "commissions"
    menu_name = "Commissions"
    menu_category = CATEGORY
    area = "commissions"

    column_list = ("id", "programme", "held_on", "members_present")
    column_select_related_list = (Commission.programme,)
    column_default_sort = ("held_on", True)
    column_filters = ("programme.code", "held_on")
    column_details_list = ("id", "programme", "held_on", "members_present", "minutes",
                           "referrals")
    form_columns = ("programme", "held_on", "members_present", "minutes")


class PurchaseOrderView(ProtectedModelView):
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
                    "received_at", "beneficiary_count", "company_name", "support_start_on")
    column_labels = {"company_name": "Entreprise en redressement (ARJLJ)"}
    date_order = (("issued_on", "received_on",
                   "Date de réception : elle ne peut pas être antérieure à la date "
                   "d'émission ({:%d/%m/%Y})."),)


class PurchaseOrderLineView(ProtectedModelView):
    model_class = PurchaseOrderLine
    slug = "purchase-order-lines"
    menu_name = "Lignes de bons de commande"
    menu_category = CATEGORY
    area = "purchase_orders"

    column_list = ("id", "order", "beneficiary", "referral", "duration_months")
    column_select_related_list = (PurchaseOrderLine.order, PurchaseOrderLine.beneficiary,
                                  PurchaseOrderLine.referral)
    list_eager_loads = (joinedload(PurchaseOrderLine.referral).joinedload(Referral.programme),)
    column_searchable_list = ("order.number", "beneficiary.last_name", "beneficiary.first_name")
    column_filters = ("order.number",)
    form_columns = ("order", "beneficiary", "referral", "duration_months")
    form_ajax_refs = {
        "order": {"fields": ("number",)},
        "beneficiary": BENEFICIARY_SEARCH,
        "referral": REFERRAL_SEARCH,
    }
    column_labels = {"order.number": "Numéro du bon de commande"}
