"""Domain rules in plain Python: no Flask, no database session.

Each module takes today's date and the facts as arguments and returns plain values,
so a rule can be read, changed and unit-tested without starting the application.
"""
