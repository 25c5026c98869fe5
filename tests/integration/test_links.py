"""Issue 20 §2: every reference is a link — a path, a person, a referral, an order, a
workshop in a list or on a record's page opens that record, for a reader who may open
it; exports keep plain text."""
import pytest

from tests.integration.test_admin_access import make_world


@pytest.fixture
def world(app, users):
    with app.app_context():
        from backoffice.models import Beneficiary, Contact, Enrolment, Workshop

        ids = make_world(users["counsellor"])
        return {"person": ids[Beneficiary], "path": ids[Enrolment], "contact": ids[Contact],
                "workshop": ids[Workshop]}


def test_list_cells_link_to_the_records_they_name(client, auth, world):
    auth.login("coordinator")
    page = client.get("/admin/contacts/").get_data(as_text=True)
    assert f'href="/admin/enrolments/details/?id={world["path"]}"' in page
    assert f'href="/admin/beneficiaries/details/?id={world["person"]}"' in page
    attendance = client.get("/admin/attendances/").get_data(as_text=True)
    assert f'href="/admin/workshops/details/?id={world["workshop"]}"' in attendance
    assert f'href="/admin/beneficiaries/details/?id={world["person"]}"' in attendance


def test_a_record_page_links_its_references(client, auth, world):
    auth.login("coordinator")
    page = client.get(f"/admin/contacts/details/?id={world['contact']}").get_data(as_text=True)
    assert f'href="/admin/enrolments/details/?id={world["path"]}"' in page


def test_no_link_to_an_area_the_role_may_not_open(client, auth, world):
    """A counsellor may not open the users' list: the staff member stays plain text."""
    auth.login("counsellor")
    page = client.get("/admin/contacts/").get_data(as_text=True)
    assert f'href="/admin/enrolments/details/?id={world["path"]}"' in page
    assert "/admin/users/details/" not in page


def test_exports_keep_plain_text(client, auth, world):
    auth.login("coordinator")
    export = client.get("/admin/contacts/export/csv/").get_data(as_text=True)
    assert "WAMYTAN" in export.upper() and "<a " not in export


@pytest.mark.parametrize("slug", ["contacts", "barriers", "internships", "suspensions",
                                  "phase-records", "obligations", "attendances"])
def test_path_records_lists_filter_by_path_and_by_person(app, client, auth, world, slug):
    """Filter « Parcours (n°) » and « Bénéficiaire (n°) »: the path's rows only."""
    from tests.integration.test_query_counts import filter_arg

    auth.login("coordinator")
    endpoint = slug.replace("-", "_")
    for label, value in (("Parcours (n°)", world["path"]), ("Bénéficiaire (n°)", world["person"])):
        arg = filter_arg(app, endpoint, label, "IntEqualFilter")
        mine = client.get(f"/admin/{slug}/?{arg}={value}").get_data(as_text=True)
        other = client.get(f"/admin/{slug}/?{arg}={value + 1000}").get_data(as_text=True)
        assert 'name="rowid"' in mine, (slug, label)
        assert 'name="rowid"' not in other, (slug, label)


def test_lists_show_the_programme_code_with_its_name_on_hover(app, client, auth, world):
    """Issue 20 §6: short labels in lists (the programme's code), the full name on hover;
    the record's page keeps the full name."""
    with app.app_context():
        from backoffice.extensions import db
        from backoffice.models import Enrolment

        programme = db.session.get(Enrolment, world["path"]).programme
        code, full = programme.code, str(programme)
    auth.login("coordinator")
    page = client.get("/admin/enrolments/").get_data(as_text=True)
    assert f'title="{full}">{code}</a>' in page
    assert f">{full}</a>" not in page
    record = client.get(f"/admin/enrolments/details/?id={world['path']}").get_data(as_text=True)
    assert full in record
