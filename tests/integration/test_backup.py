"""Issue 6 §8: `flask backup --output FILE` writes a consistent copy that can be restored,
even while the application writes."""
import os
import sqlite3
import stat
import threading
from pathlib import Path

import click
import pytest
from sqlalchemy import create_engine, func, select, text

from backoffice.extensions import db
from backoffice.models import AuditEntry, Beneficiary
from tests.integration.test_admin_access import make_beneficiary


def _sqlite_only(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite backup (PostgreSQL: test_pg_dump_backup_restores)")


def test_backup_is_a_restorable_copy(app, runner, tmp_path):
    _sqlite_only(app)
    with app.app_context():
        for index in range(30):
            make_beneficiary(f"Nom{index}", "Prénom", external_id=f"DE-{index}")
        db.session.commit()
    output = tmp_path / "copie" / "parcours.sqlite3"
    result = runner.invoke(args=["backup", "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert "Sauvegarde écrite" in result.output
    # Restore: the copy is a database of its own, complete and sound.
    restored = create_engine(f"sqlite:///{output}")
    with restored.connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        assert conn.execute(select(func.count()).select_from(Beneficiary.__table__)).scalar() == 30
        assert conn.execute(select(func.count()).select_from(AuditEntry.__table__)).scalar() >= 30
    restored.dispose()
    assert not (tmp_path / "copie" / "parcours.sqlite3-wal").exists() or \
        (tmp_path / "copie" / "parcours.sqlite3-wal").stat().st_size == 0


def test_backup_while_writers_run_is_consistent(app, runner, tmp_path):
    """Each writer's transaction adds a person and its audit entry together: in the copy,
    every person has its creation entry (no half transaction)."""
    _sqlite_only(app)
    stop = threading.Event()
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")

    def writer():
        index = 0
        with app.app_context():
            while not stop.is_set():
                make_beneficiary(f"Concurrent{index}", "Léa", external_id=f"C-{index}")
                db.session.commit()
                index += 1
            db.session.remove()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        outputs = []
        for attempt in range(3):
            output = tmp_path / f"copie{attempt}.sqlite3"
            result = runner.invoke(args=["backup", "--output", str(output)])
            assert result.exit_code == 0, result.output
            outputs.append(output)
    finally:
        stop.set()
        thread.join()
    for output in outputs:
        conn = sqlite3.connect(output)
        people = conn.execute("SELECT id FROM beneficiaries").fetchall()
        created = conn.execute("SELECT row_id FROM audit_entries WHERE action='create' "
                               "AND table_name='beneficiaries'").fetchall()
        conn.close()
        assert sorted(people) == sorted(created)
    assert path


def test_backup_file_is_readable_by_its_owner_only(app, runner, tmp_path):
    """It holds every personal record: mode 0600 whatever the umask (before: 0644)."""
    _sqlite_only(app)
    previous = os.umask(0o022)
    try:
        output = tmp_path / "prive.sqlite3"
        result = runner.invoke(args=["backup", "--output", str(output)])
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(output.stat().st_mode) == 0o600


def test_failed_backup_leaves_no_file(app, runner, tmp_path, monkeypatch):
    _sqlite_only(app)
    from backoffice.commands import backup

    def broken(_database, output):
        Path(output).write_bytes(b"SQLite format 3\0 partiel")  # half a copy, then fails
        raise click.ClickException("Copie incohérente : disque plein")

    monkeypatch.setattr(backup, "backup_sqlite", broken)
    output = tmp_path / "rate.sqlite3"
    result = runner.invoke(args=["backup", "--output", str(output)])
    assert result.exit_code != 0 and "disque plein" in result.output
    assert not output.exists()


def test_backup_refuses_to_overwrite(app, runner, tmp_path):
    _sqlite_only(app)
    output = tmp_path / "existe.sqlite3"
    output.write_text("ancien")
    result = runner.invoke(args=["backup", "--output", str(output)])
    assert result.exit_code != 0 and "existe déjà" in result.output
    assert output.read_text() == "ancien"


def test_pg_dump_backup_restores(app, runner, tmp_path):
    """PostgreSQL: pg_dump's custom format, restored with pg_restore into a fresh schema."""
    import shutil
    import subprocess

    from sqlalchemy.engine import make_url

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        pytest.skip("PostgreSQL only (bash .ci/postgres.sh …)")
    with app.app_context():
        make_beneficiary("Sauvegarde", "Léa")
        db.session.commit()
    output = tmp_path / "parcours.dump"
    result = runner.invoke(args=["backup", "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    pg_restore = shutil.which("pg_restore") or "/usr/lib/postgresql/15/bin/pg_restore"
    listing = subprocess.run([pg_restore, "--list", str(output)], capture_output=True,
                             text=True, check=True).stdout
    assert "TABLE DATA public beneficiaries" in listing
    with app.app_context():  # restore over an emptied schema
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.engine.dispose()
    parsed = make_url(url)
    env = {"PGPASSWORD": parsed.password or ""}
    target = parsed.set(drivername="postgresql", password=None)
    subprocess.run([pg_restore, "--no-owner", "--dbname",
                    target.render_as_string(hide_password=False), str(output)],
                   check=True, env={**__import__("os").environ, **env})
    with app.app_context():
        assert db.session.scalar(select(Beneficiary.last_name)) == "Sauvegarde"
