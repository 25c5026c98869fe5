"""The browser journeys' application: the project's own (wsgi.py) with the tests' document
kinds (tests/document_kinds.py) added, so that a journey produces a document whatever the
catalogue ships."""
from tests.document_kinds import register_test_kinds
from wsgi import app  # noqa: F401  (gunicorn tests.e2e.app:app)

register_test_kinds()
