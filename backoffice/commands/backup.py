"""`flask backup --output FILE` (issue 6 §8): a consistent copy of the database while the
application keeps running.

- SQLite: the online backup API (`sqlite3.Connection.backup`) copies page by page under a
  read transaction, so writers may go on; the copy is a plain SQLite file, restored by
  putting it in place of the database (application stopped).
- PostgreSQL: `pg_dump --format=custom` (one snapshot, consistent); restore with
  `pg_restore --clean --if-exists --no-owner --dbname … FILE`. The password goes through
  PGPASSWORD, never on the command line (visible to `ps`). `PG_DUMP` chooses the binary.

The file is created first with mode 0600 (owner only) and both engines write into it.
"""
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url

from ..extensions import db

PG_DUMP_FALLBACK = "/usr/lib/postgresql/15/bin/pg_dump"
#: A backup holds every personal record: only its owner may read it (issue 18 §9).
BACKUP_FILE_MODE = 0o600


def backup_sqlite(database: str, output: Path) -> None:
    """Copy a live SQLite database with the online backup API."""
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    target = sqlite3.connect(str(output))
    try:
        with target:
            source.backup(target)
        check = target.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise click.ClickException(f"Copie incohérente : {check}")
        # A self-contained file: no -wal/-shm beside it.
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        target.close()
        source.close()


def pg_dump_binary() -> str:
    return (os.environ.get("PG_DUMP") or shutil.which("pg_dump") or PG_DUMP_FALLBACK)


def backup_postgresql(url: str, output: Path) -> None:
    """pg_dump in custom format of the database at `url`."""
    parsed = make_url(url)
    environment = {**os.environ}
    if parsed.password:
        environment["PGPASSWORD"] = parsed.password
    target = parsed.set(drivername="postgresql", password=None)
    result = subprocess.run(
        [pg_dump_binary(), "--format=custom", "--no-owner", f"--file={output}",
         f"--dbname={target.render_as_string(hide_password=False)}"],
        env=environment, capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise click.ClickException(f"pg_dump a échoué : {result.stderr.strip()}")


def _create_private(output: Path) -> None:
    """Create `output` empty, readable and writable by its owner only (0600) — it holds
    every personal record; refuse an existing file (created atomically: no race)."""
    output.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, BACKUP_FILE_MODE)
    except FileExistsError as err:
        raise click.ClickException(f"{output} existe déjà : choisissez un autre fichier.") \
            from err
    os.fchmod(descriptor, BACKUP_FILE_MODE)  # whatever the umask
    os.close(descriptor)


def backup(url: str, output: Path) -> None:
    """A consistent copy of the database at `url` in `output` (the engine decides how),
    readable by the owner only; no partial file is left when the copy fails."""
    output = Path(output)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise click.ClickException("Base SQLite en mémoire : rien à sauvegarder.")
        write = backup_sqlite
        source = parsed.database
    elif parsed.get_backend_name() == "postgresql":
        write = backup_postgresql
        source = url
    else:
        raise click.ClickException(f"Moteur non pris en charge : {parsed.get_backend_name()}")
    _create_private(output)
    try:
        write(source, output)  # both write into the existing file, keeping its mode
    except BaseException:
        output.unlink(missing_ok=True)
        raise
    os.chmod(output, BACKUP_FILE_MODE)


@click.command("backup", help="Écrire une copie cohérente de la base de données dans un fichier.")
@click.option("--output", required=True, type=click.Path(dir_okay=False),
              help="Fichier de sauvegarde à créer.")
@with_appcontext
def backup_command(output: str) -> None:
    """Write a consistent copy of the database to FILE."""
    url = db.engine.url.render_as_string(hide_password=False)
    backup(url, Path(output))
    size = Path(output).stat().st_size
    click.echo(f"Sauvegarde écrite : {output} ({size // 1024} Kio).")


def register(app) -> None:
    app.cli.add_command(backup_command)
