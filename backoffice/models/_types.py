"""Column helpers shared by the model modules."""
from datetime import UTC, datetime

from sqlalchemy import Enum as SAEnum


def enum_type(enum_cls, length: int = 20, name: str | None = None) -> SAEnum:
    """Store a LabelledEnum as its English value, with a CHECK constraint on every engine."""
    return SAEnum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
        name=name or enum_cls.__name__.lower(),
    )


def utcnow() -> datetime:
    """Naive UTC timestamp (stored the same way on SQLite and PostgreSQL)."""
    return datetime.now(UTC).replace(tzinfo=None)
