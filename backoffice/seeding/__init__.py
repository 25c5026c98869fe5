"""Seeding: the reference data of `seeds/` (reference.py) and the demo dataset (demo.py).

`flask seed reference` and `flask seed demo` (commands/__init__.py) call these functions; they never
commit, the caller does.
"""
