"""Column helpers shared by the model modules."""
from datetime import UTC, datetime

from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapped, declared_attr, mapped_column


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


class Versioned:
    """A record edited by people: every UPDATE (and DELETE) names the version it read and
    bumps it, so a save made on a stale copy is refused (StaleDataError) instead of
    silently overwriting someone else's change (issue 18 §3: no lost update on any
    editable table). The edit forms carry the version the user loaded
    (admin/concurrency.py); this column guards the instant between their check and the
    commit."""

    version: Mapped[int] = mapped_column(default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:
        return {"version_id_col": cls.__table__.c.version}
