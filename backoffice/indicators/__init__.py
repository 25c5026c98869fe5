"""Indicators of the funders' reports: plain Python + SQLAlchemy aggregates, no Flask.

One function per indicator, declared with :func:`base.indicator` (French name, definition
in words, source in the specification). Modules by funder:

- ``del_indicators`` — DEL province Sud (001 « Évaluation » and indicator table)
- ``csp`` — CSP monthly table by cohort (002 II §9)
- ``arjlj`` — ARJLJ table for a purchase order (002 I §7)
- ``plie`` — PLIE evaluation criteria (004 §5)
- ``typology`` — who the people are (sex, age band, education, residence, status…)
- ``lists`` — the nominative lists behind the figures, streamed, optionally pseudonymised
"""

from . import arjlj, csp, del_indicators, lists, plie, typology  # noqa: F401  (register)
from .base import REGISTRY, Indicator, Kind, Result
from .scope import Scope, ScopeError, make_scope

__all__ = ["REGISTRY", "Indicator", "Kind", "Result", "Scope", "ScopeError", "make_scope"]
