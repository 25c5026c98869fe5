"""Seeding: the reference data of `seeds/` (reference.py) and the demo dataset (demo.py).

`flask seed reference` and `flask seed demo` (cli.py) call these functions; they never
commit, the caller does.
"""
