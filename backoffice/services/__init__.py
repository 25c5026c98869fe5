"""Actions on records: load what a rule needs, call the rule, apply its effects.

Plain Python over a SQLAlchemy session (no Flask): the admin, the CLI and the tests call
the same functions. They never commit: the caller commits once per user action, so a
refused action leaves nothing half-written.
"""
