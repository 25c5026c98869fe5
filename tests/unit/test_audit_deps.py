"""The known-vulnerability check of the dependencies (.ci/audit_deps.py, `make
audit-deps`), on PyPI answers made here (no network)."""
import runpy
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "audit_deps.py"
ADVISORY = {"id": "PYSEC-2017-94", "aliases": ["CVE-2013-7459"], "fixed_in": [],
            "withdrawn": None}


@pytest.fixture
def audit(monkeypatch):
    """The script's functions, with PyPI replaced by `pages` (url → JSON, absent: 404)."""
    functions = runpy.run_path(str(SCRIPT))
    pages: dict[str, dict] = {}
    check = functions["check"]
    check.__globals__["fetch"] = pages.get
    return functions, pages


def _page(version, *found):
    return {"info": {"version": version}, "vulnerabilities": list(found)}


def test_latest_release_with_an_advisory_is_vulnerable(audit):
    functions, pages = audit
    pages["https://pypi.org/pypi/pycrypto/json"] = _page("2.6.1", ADVISORY)
    finding = functions["check"]("PyCrypto", "2.6.1")
    assert finding.checked and finding.advisories == [
        "PYSEC-2017-94 (CVE-2013-7459), corrigé en aucune version"]
    assert "**vulnérable**" in functions["report"]([finding])


def test_withdrawn_advisories_are_ignored(audit):
    functions, pages = audit
    pages["https://pypi.org/pypi/flask/json"] = _page("3.1.3", {**ADVISORY, "withdrawn": "x"})
    finding = functions["check"]("Flask", "3.1.3")
    assert finding.checked and finding.advisories == []


def test_an_older_version_is_checked_on_its_release_page_or_reported_unchecked(audit):
    functions, pages = audit
    pages["https://pypi.org/pypi/werkzeug/json"] = _page("3.1.9")
    assert not functions["check"]("Werkzeug", "3.1.8").checked  # no release page here
    pages["https://pypi.org/pypi/werkzeug/3.1.8/json"] = _page("3.1.8", ADVISORY)
    assert functions["check"]("Werkzeug", "3.1.8").advisories


def test_a_version_reviewed_by_hand_counts_as_checked(audit):
    functions, pages = audit
    pages["https://pypi.org/pypi/python-dateutil/json"] = _page("4.0.0")
    finding = functions["check"]("python-dateutil", "2.9.0.post0")
    assert finding.checked and "relu à la main" in finding.note
    assert not functions["check"]("python-dateutil", "2.8.0").checked
