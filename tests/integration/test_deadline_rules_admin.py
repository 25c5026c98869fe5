"""/admin/deadline-rules/: the trigger is chosen among the known events (French labels)
and a rule counted from a phase must name a phase of its programme (002 II §4)."""
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.models import DeadlineRule, Programme


def _ids(app):
    with app.app_context():
        csp = db.session.scalar(select(Programme.id).where(Programme.code == "CSP"))
        rule = db.session.scalar(select(DeadlineRule).where(
            DeadlineRule.code == "csp_phase1_end", DeadlineRule.programme_id == csp))
        return csp, rule.id


def _form(programme_id, **changes):
    data = {"programme": str(programme_id), "code": "csp_phase2_check",
            "name": "Point de phase 2", "trigger_event": "phase_start", "phase_code": "phase_2",
            "offset_value": "14", "unit": "calendar_days", "fulfilled_by": "", "source": "002",
            "active": "y"}
    data.update(changes)
    return data


def test_the_trigger_is_offered_in_french(reference_app, client, auth):
    auth.login("admin")
    page = client.get("/admin/deadline-rules/new/").get_data(as_text=True)
    assert "Début d&#39;une phase" in page or "Début d'une phase" in page
    assert "Réception du bon de commande" in page
    listing = client.get("/admin/deadline-rules/?search=csp_phase1_end").get_data(as_text=True)
    assert "Début d&#39;une phase" in listing or "Début d'une phase" in listing


def test_a_phase_rule_must_name_a_phase_of_its_programme(reference_app, client, auth):
    csp, _ = _ids(reference_app)
    auth.login("admin")
    page = client.post("/admin/deadline-rules/new/", data=_form(csp, phase_code="phase_9"))
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Phase : une règle déclenchée par le début ou la fin d&#39;une phase" in text or \
        "Phase : une règle déclenchée par le début ou la fin d'une phase" in text
    assert "phase_1" in text and "phase_2" in text  # the codes it may use
    with reference_app.app_context():
        assert db.session.scalar(select(DeadlineRule).where(
            DeadlineRule.code == "csp_phase2_check")) is None
    response = client.post("/admin/deadline-rules/new/", data=_form(csp))
    assert response.status_code == 302
    with reference_app.app_context():
        rule = db.session.scalar(select(DeadlineRule).where(
            DeadlineRule.code == "csp_phase2_check"))
        assert (rule.trigger_event, rule.phase_code) == ("phase_start", "phase_2")


def test_an_unknown_trigger_is_refused(reference_app, client, auth):
    csp, _ = _ids(reference_app)
    auth.login("admin")
    page = client.post("/admin/deadline-rules/new/",
                       data=_form(csp, trigger_event="lune_pleine", phase_code=""))
    assert page.status_code == 200
    with reference_app.app_context():
        assert db.session.scalar(select(DeadlineRule).where(
            DeadlineRule.code == "csp_phase2_check")) is None


def test_the_roll_on_a_day_not_worked_is_chosen_in_french(reference_app, client, auth):
    """Issue 19 point 7: a rule says whether its due date rolls forward, back or stays."""
    auth.login("admin")
    page = client.get("/admin/deadline-rules/new/").get_data(as_text=True)
    for label in ("Jour non ouvré", "Reportée au premier jour ouvré suivant",
                  "Avancée au dernier jour ouvré précédent", "Reste à sa date"):
        assert label in page
    csp, _ = _ids(reference_app)
    response = client.post("/admin/deadline-rules/new/", data=_form(csp, roll="back"))
    assert response.status_code == 302
    with reference_app.app_context():
        rule = db.session.scalar(select(DeadlineRule).where(
            DeadlineRule.code == "csp_phase2_check"))
        assert rule.roll.value == "back"
        db.session.delete(rule)
        db.session.commit()
