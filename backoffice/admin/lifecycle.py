"""Lifecycle actions in the admin (issue 3): what the referral and path views share.

A lifecycle action (« Valider l'entrée », « Clôturer avec un type de sortie »…) is offered
three ways: a bulk action of the list, a button on the record's page, an icon on the
list's row. All lead to one form page (`lifecycle_page`, GET shows the form and the
selected records, POST applies): that page is the one confirmation (issue 20 §7), the
list's menu asks none before it.

For each action name the view declares:
- its label and refusal words in `lifecycle_actions`;
- `form_<name>(rows, formdata)` → the form (with its choices);
- `apply_<name>(rows, form)` → calls ONE service of `services/lifecycle.py` and returns the
  French success message (or `(message, url)` to go elsewhere afterwards).

Who may run an action is `auth.permissions.ACTIONS` (checked on GET and POST, 403
otherwise); which rows is the view's own filter (a counsellor reaches only their paths,
404 otherwise). One user action is one transaction: a refusal (`TransitionRefused`, a
database check) rolls everything back, is traced in the audit trail and shown in French.
The form page carries the versions of what it shows (`versions_seen`): applied to records
someone changed after the page was loaded, the action is refused (issue 18 §3: no lost
update, e.g. two attendance sheets of one workshop saved on the same copy).
"""
from contextlib import contextmanager
from datetime import date

from flask import abort, flash, redirect, request
from flask_admin.contrib.sqla.tools import get_query_for_ids
from flask_admin.model.template import BaseListRowAction
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from wtforms.validators import ValidationError

from .. import audit
from ..auth.permissions import may_run
from ..extensions import db
from ..models import User
from ..redirects import back_to
from ..rules.lifecycle import TransitionRefused
from ..value_ranges import OutOfRange
from .base import current_role, ids_or_404, integrity_message, note_refusal
from .row_actions import ROW_ID, row_link

TEMPLATE = "admin/lifecycle/form.html"
STALE_PAGE = ("ces fiches ont été modifiées depuis l'ouverture de cette page ; rechargez-la "
              "(rien n'a été enregistré)")


def current_day() -> date:
    """Today, as the organisation's clock reads it (the services never read the clock)."""
    return date.today()


@contextmanager
def checked_by_the_rules():
    """In a create or edit form's save: a refusal of the lifecycle rules becomes the
    form's French message (Flask-Admin rolls back, nothing is saved)."""
    try:
        yield
    except TransitionRefused as refused:
        raise ValidationError(refused.message + ".") from None


def plural(count: int, singular: str, several: str) -> str:
    """« 1 prescription validée », « 2 prescriptions validées »."""
    return f"{count} {singular if count == 1 else several}"


def field_value(form, name: str):
    """A field's value, None when the form does not ask it or it is left empty."""
    if name not in form:
        return None
    value = form[name].data
    if isinstance(value, str):
        value = value.strip()
    return value if value not in ("", None) else None


class LifecycleRowAction(BaseListRowAction):
    """An icon in the list that opens the action's form, shown only on the rows where
    the action is possible (status) and for the roles that may run it."""

    def __init__(self, name: str, icon_class: str, title: str, endpoint: str):
        super().__init__(title=title)
        self.name, self.icon_class, self.endpoint = name, icon_class, endpoint

    def render(self, context, row_id, row):
        view = context.resolve("admin_view")
        if not view.offers(self.name, row):
            return ""
        return row_link(view, self.endpoint, row_id, self.title, self.icon_class,
                        action=self.name, ids=ROW_ID, url=context.resolve("return_url"))


class LifecycleMixin:
    """Lifecycle actions for a ProtectedModelView (see the module docstring)."""

    #: action name → (button label, « Impossible de … » words for refusals)
    lifecycle_actions: dict[str, tuple[str, str]] = {}
    #: the exposed form page, e.g. ".decide_view"
    lifecycle_endpoint: str = None
    #: actions that take one record at a time
    single_record_actions: frozenset[str] = frozenset()
    #: (column title, function row → text) shown above the form
    lifecycle_columns: tuple = ()

    def init_actions(self) -> None:
        """The list's menu in `lifecycle_actions`' order (Flask-Admin sorts its actions
        by method name), others after (issue 20 §7: in the order a commission acts)."""
        super().init_actions()
        order = list(self.lifecycle_actions)
        self._actions.sort(key=lambda item: (item[0] not in order,
                                             order.index(item[0]) if item[0] in order else 0))

    # --- who and which ----------------------------------------------------------------
    def may_run(self, name: str) -> bool:
        return may_run(current_role(), name)

    def status_allows(self, name: str, row) -> bool:
        """True when the record's status allows the action (the view says)."""
        raise NotImplementedError

    def offers(self, name: str, row) -> bool:
        """Show the action's button for this record to this user?"""
        return self.may_run(name) and self.status_allows(name, row)

    def record_actions(self, row) -> list[tuple[str, str]]:
        """(label, url) of the buttons on a record's page."""
        back = request.full_path if request.query_string else request.path
        return [(label, self.lifecycle_url(name, [row.id], back))
                for name, (label, _refused) in self.lifecycle_actions.items()
                if self.offers(name, row)]

    def lifecycle_url(self, name: str, ids, back: str | None = None) -> str:
        return self.get_url(self.lifecycle_endpoint, action=name,
                            ids=",".join(str(i) for i in ids), url=back)

    def rows_for(self, ids) -> list:
        """The selected records through the view's own filter; 404 if one is out of reach
        (deleted, or another counsellor's path)."""
        wanted = ids_or_404(ids)
        rows = get_query_for_ids(self.get_query(), self.model, wanted).all()
        by_id = {row.id: row for row in rows}
        if set(by_id) != set(wanted):
            abort(404)
        return [by_id[i] for i in dict.fromkeys(wanted)]

    def _back_url(self) -> str:
        """Where the user came from (`url`), if it is a path of this site."""
        return back_to(request.values.get("url"), self.get_url(".index_view"))

    def versions_of(self, rows: list) -> str:
        """What the action's page shows, as versions: « 3:2,4:1 » (record id: version).
        A view whose action also rewrites other records adds theirs."""
        return ",".join(f"{row.id}:{row.version}" for row in rows)

    def decider(self) -> User:
        """The logged-in user as a row of this session (recorded as the decider)."""
        return db.session.get(User, current_user.id)

    # --- one transaction per user action -----------------------------------------------
    def run_action(self, name: str, rows: list, form):
        """Call `apply_<name>`, commit and flash; on refusal roll back, trace, flash.

        Returns the apply's message (and url) on success, None when refused.
        """
        label, refused_words = self.lifecycle_actions[name]
        try:
            result = getattr(self, f"apply_{name}")(rows, form)
            db.session.commit()
        except TransitionRefused as refused:
            self._refuse(name, rows, f"{refused_words} : {refused.message}")
            return None
        except IntegrityError as exc:
            self._refuse(name, rows, f"{refused_words}. {integrity_message(exc)}")
            return None
        except StaleDataError:
            self._refuse(name, rows, f"{refused_words} : {self.stale_message}")
            return None
        except OutOfRange as exc:  # a safety net: the forms check the ranges first
            self._refuse(name, rows, f"{refused_words} : {exc}")
            return None
        message, url = result if isinstance(result, tuple) else (result, None)
        flash(message, "success")
        return message, url

    def _refuse(self, name: str, rows: list, message: str) -> None:
        """Nothing changed: roll back, trace the refusal (its own commit), tell the user."""
        db.session.rollback()
        ids = ", ".join(f"n° {row.id}" for row in rows)
        audit.record(db.session, "refused", self.model.__tablename__,
                     rows[0].id if len(rows) == 1 else None,
                     detail=f"{self.lifecycle_actions[name][0]} ({ids}) — {message}")
        db.session.commit()
        flash(message, "error")

    def each(self, rows: list, apply) -> list:
        """Apply to every row; in a batch a refusal names the record it concerns."""
        results = []
        for row in rows:
            try:
                results.append(apply(row))
            except TransitionRefused as refused:
                if len(rows) == 1 or refused.message.startswith("Prescription n°"):
                    raise
                raise TransitionRefused(f"{row} — {refused.message}") from None
        return results

    def bulk_to_form(self, name: str, ids):
        """A bulk action that needs input: go to its form page with the selection."""
        back = back_to(request.values.get("url"), self.get_url(".index_view"))
        return redirect(self.lifecycle_url(name, ids, back))

    # --- the form page -------------------------------------------------------------------
    def lifecycle_page(self):
        """GET: the form and the selected records; POST: apply (CSRF checked by
        CSRFProtect), then back to where the user came from."""
        name = request.values.get("action", "")
        if name not in self.lifecycle_actions:
            abort(404)
        if not self.may_run(name):
            abort(403)
        rows = self.rows_for((request.values.get("ids") or "").split(","))
        back = self._back_url()
        label = self.lifecycle_actions[name][0]
        if name in self.single_record_actions and len(rows) > 1:
            flash(f"« {label} » : une fiche à la fois ; sélectionnez-en une seule.", "error")
            return redirect(back)
        formdata = request.form if request.method == "POST" else None
        try:
            form = getattr(self, f"form_{name}")(rows, formdata)
        except TransitionRefused as refused:
            flash(f"{self.lifecycle_actions[name][1]} : {refused.message}", "error")
            return redirect(back)
        method = getattr(form, "method", "post")
        # On a refusal the page keeps the versions it was loaded with: saving again is
        # refused until the user reloads it (as the edit forms, admin/concurrency.py).
        seen = request.form.get("versions_seen") if request.method == "POST" \
            else self.versions_of(rows)
        if request.method == "POST" and method == "post":
            if not form.validate():  # traced like a refused save: the fields, not values
                wrong = ", ".join(str(field.label.text) for field in form if field.errors)
                note_refusal(f"Formulaire refusé ({label}) : {wrong}")
            elif seen != self.versions_of(rows):
                self._refuse(name, rows, f"{self.lifecycle_actions[name][1]} : {STALE_PAGE}")
            else:
                done = self.run_action(name, rows, form)
                if done is not None:
                    return redirect(done[1] or back)
        return self.render(
            TEMPLATE, action_name=name, title=label, rows=rows, form=form, method=method,
            submit=getattr(form, "submit_label", label), back=back,
            ids=",".join(str(row.id) for row in rows),
            columns=self.lifecycle_columns, intro=getattr(form, "intro", None),
            restart_url=getattr(form, "restart_url", None),
            form_url=self.get_url(self.lifecycle_endpoint), versions_seen=seen or "",
        )
