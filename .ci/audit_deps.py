"""Known vulnerabilities of the installed dependencies (issue 18 §10): `make audit-deps`.

Every distribution installed in the interpreter that runs this script (`.venv`: the
application, its tools and extras, at the versions pip resolved) is looked up in PyPI's
JSON API, which carries the advisories of the OSV database (PYSEC, GHSA) for a release:

- the project's page (`/pypi/NAME/json`) gives the advisories of its latest release: they
  apply when that is the installed version;
- otherwise the release's page (`/pypi/NAME/VERSION/json`, what `pip-audit
  --vulnerability-service pypi` asks for) is tried; the JSON API reachable from this
  project's machines does not serve those pages, so an installed version older than the
  latest is reported « non vérifiée » — upgrade it, or review it by hand and list it in
  `REVIEWED` with the reason.

Withdrawn advisories are ignored. Prints a Markdown report (to keep in
docs/dependency-audit.md); exit status 0: nothing known, 1: a vulnerability, 2: a package
could not be checked. Standard library only; `PYPI_JSON_URL` changes the service.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata

SERVICE = os.environ.get("PYPI_JSON_URL", "https://pypi.org/pypi").rstrip("/")
OWN_PROJECT = "parcours-backoffice"
TIMEOUT_SECONDS = 30
#: Versions that cannot be checked here and were reviewed by hand: (name, version) → why
#: they are kept. Review again when the version moves (the entry then stops matching).
REVIEWED = {
    ("python-dateutil", "2.9.0.post0"): (
        "relu à la main le 2026-12-06 : la plus récente que permet holidays (<3) ; aucun "
        "avis connu pour la branche 2.x"),
}


@dataclass
class Finding:
    """What PyPI says of one installed distribution."""

    name: str
    version: str
    latest: str = "?"
    advisories: list[str] = field(default_factory=list)
    checked: bool = False
    note: str = ""


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def fetch(url: str) -> dict | None:
    """The JSON document at `url`, or None when it does not exist (404)."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as answer:
            return json.load(answer)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise


def advisories(document: dict) -> list[str]:
    """« PYSEC-… (CVE-…) corrigé en X » for each advisory not withdrawn."""
    found = []
    for advisory in document.get("vulnerabilities") or []:
        if advisory.get("withdrawn"):
            continue
        aliases = ", ".join(advisory.get("aliases") or [])
        fixed = ", ".join(advisory.get("fixed_in") or []) or "aucune version"
        found.append(f"{advisory['id']}{f' ({aliases})' if aliases else ''}, corrigé en {fixed}")
    return found


def check(name: str, version: str) -> Finding:
    finding = Finding(name, version)
    try:
        project = fetch(f"{SERVICE}/{canonical(name)}/json")
        if project is None:
            finding.note = "absent de PyPI"
            return finding
        finding.latest = project["info"]["version"]
        if finding.latest == version:
            finding.advisories, finding.checked = advisories(project), True
            return finding
        release = fetch(f"{SERVICE}/{canonical(name)}/{version}/json")
        if release is not None:
            finding.advisories, finding.checked = advisories(release), True
        elif (canonical(name), version) in REVIEWED:
            finding.checked, finding.note = True, REVIEWED[canonical(name), version]
        else:
            finding.note = "version antérieure à la dernière, avis non servis : à mettre à jour"
    except (OSError, ValueError, KeyError) as error:
        finding.note = f"PyPI injoignable ou réponse illisible : {error}"
    return finding


def installed() -> list[tuple[str, str]]:
    """(name, version) of each installed distribution but this project, by name."""
    seen = {}
    for distribution in metadata.distributions():
        name = distribution.metadata["Name"]
        if name and canonical(name) != OWN_PROJECT:
            seen[canonical(name)] = (name, distribution.version)
    return [seen[key] for key in sorted(seen)]


def report(findings: list[Finding]) -> str:
    vulnerable = [f for f in findings if f.advisories]
    unchecked = [f for f in findings if not f.checked]
    lines = [
        f"Vérification du {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"Python {sys.version.split()[0]}, service {SERVICE} : "
        f"{len(findings)} paquets installés, {len(findings) - len(unchecked)} vérifiés, "
        f"{len(vulnerable)} avec une vulnérabilité connue, {len(unchecked)} non vérifiés.",
        "",
        "| paquet | version installée | dernière version | résultat |",
        "|---|---|---|---|",
    ]
    for finding in findings:
        if finding.advisories:
            result = "**vulnérable** : " + " ; ".join(finding.advisories)
        elif finding.checked:
            result = finding.note or "aucune vulnérabilité connue"
        else:
            result = f"non vérifié : {finding.note}"
        lines.append(f"| {finding.name} | {finding.version} | {finding.latest} | {result} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description="Vulnérabilités connues des dépendances "
                                                 "installées (avis de PyPI).")
    parser.parse_args()
    findings = [check(name, version) for name, version in installed()]
    sys.stdout.write(report(findings))
    if any(f.advisories for f in findings):
        return 1
    return 2 if any(not f.checked for f in findings) else 0


if __name__ == "__main__":
    sys.exit(main())
