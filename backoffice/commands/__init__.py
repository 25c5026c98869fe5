"""Command-line tools: `flask users`, `flask seed`, and the commands registered by their
modules (`flask export`, `flask obligations`, `flask alerts`, `flask privacy`, `flask backup`,
`flask esf`, `flask import`, `flask audit`).

Every error of these commands is one French line on the error output, « Erreur : … »,
with a non-zero exit code, never a traceback (issue 18 §4): a refusal of the command, a
mistyped option (click's English messages translated, `FrenchErrors`), a database error
(no SQL shown), or an unexpected failure (logged in full, the session rolled back).
"""
import re
from datetime import date, datetime

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from ..auth.emails import email_problem, normalised_email
from ..auth.passwords import password_problem
from ..enums import Role
from ..extensions import db
from ..models import Funder, User
from ..value_ranges import BIG_INTEGER_MAX, PLAUSIBLE_DATES, OutOfRange, strip_invisible

#: An option naming a record by its id: a whole number the database can hold (2^70 made
#: SQLite fail).
RECORD_ID = click.IntRange(1, BIG_INTEGER_MAX)

users_cli = AppGroup("users", help="Gérer les comptes utilisateurs.")
seed_cli = AppGroup("seed", help="Charger les données de référence et de démonstration.")


@users_cli.command("create")
@click.option("--email", required=True, help="Adresse e-mail (identifiant de connexion).")
@click.option("--name", required=True, help="Nom affiché.")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]),
              help="Rôle : admin, coordinator, commission, counsellor ou viewer.")
@click.option("--funder", default=None,
              help="Code du financeur représenté (DEL, FT, PLIE…) : obligatoire pour le rôle "
                   "viewer, qui ne voit que les dispositifs de ce financeur.")
@click.option("--password", prompt="Mot de passe", hide_input=True, confirmation_prompt=True,
              help="Mot de passe (demandé s'il n'est pas donné).")
def create_user(email: str, name: str, role: str, funder: str | None, password: str) -> None:
    """Create a staff account (a funder's account is linked to its funder)."""
    email, name = normalised_email(email), strip_invisible(name)
    problem = email_problem(email) or (None if name else "Nom affiché : champ obligatoire.")
    if problem:
        raise click.ClickException(problem)
    if db.session.scalar(select(User).where(User.email == email)):
        raise click.ClickException(f"Un compte existe déjà avec l'adresse {email}.")
    problem = password_problem(password, email)
    if problem:
        raise click.ClickException(problem)
    funder_row = _funder_of(Role(role), funder)
    user = User(email=email, name=name, role=Role(role), funder=funder_row)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Compte créé : {email} ({Role(role).label}).")


def _funder_of(role: Role, code: str | None) -> Funder | None:
    """The funder a viewer represents (required), none for the other roles (issue 18 §1)."""
    if role is not Role.VIEWER:
        if code:
            raise click.ClickException(
                "--funder : seulement pour un compte financeur (rôle viewer).")
        return None
    known = db.session.scalars(select(Funder).order_by(Funder.code)).all()
    codes = ", ".join(f.code for f in known) or "aucun financeur chargé"
    if not code:
        raise click.ClickException(
            f"--funder : obligatoire pour un compte financeur (rôle viewer) ; codes : {codes}.")
    found = next((f for f in known if f.code == code.strip().upper()), None)
    if found is None:
        raise click.ClickException(f"--funder : financeur « {code} » inconnu ; codes : {codes}.")
    return found


@users_cli.command("list")
def list_users() -> None:
    """List staff accounts."""
    for user in db.session.scalars(select(User).order_by(User.email)):
        state = "actif" if user.active else "désactivé"
        funder = f"\t{user.funder.code}" if user.funder is not None else ""
        click.echo(f"{user.email}\t{user.name}\t{user.role.label}\t{state}{funder}")


@seed_cli.command("reference")
def seed_reference() -> None:
    """Load the reference data of seeds/ (idempotent: run twice, same rows)."""
    from ..seeding.reference import load_reference

    counts = load_reference(db.session, current_app.config.get("SEEDS_DIR"))
    db.session.commit()
    for table, count in counts.items():
        click.echo(f"{table} : {count}")


@seed_cli.command("demo")
@click.option("--beneficiaries", default=300, show_default=True, type=click.IntRange(1),
              help="Nombre de bénéficiaires à créer.")
@click.option("--seed", default=1, show_default=True, type=int, help="Graine du hasard.")
@click.option("--if-empty", is_flag=True,
              help="Ne rien faire si la base contient déjà des bénéficiaires (make run).")
def seed_demo(beneficiaries: int, seed: int, if_empty: bool) -> None:
    """Build a deterministic demo dataset (loads the reference data first if needed)."""
    from ..maintenance import refresh_statistics
    from ..models import Beneficiary
    from ..seeding.demo import (
        DEMO_PASSWORD,
        build_demo,
        deadlines_in_bulk,
        settle_past_obligations,
        without_cycle_collector,
    )

    if if_empty and db.session.scalar(select(Beneficiary.id).limit(1)) is not None:
        click.echo("Base déjà remplie : données de démonstration non rechargées.")
        _print_demo_logins(DEMO_PASSWORD)
        return
    if db.engine.dialect.name == "sqlite":
        # 1 GiB of page cache for this command (SQLite's default: 2 MiB): at a million
        # people the indexes being filled no longer fit and each row read them again
        # from the file and wrote them back
        db.session.execute(text("PRAGMA cache_size = -1048576"))
    with without_cycle_collector():
        # Committed by chunks of people: a million people are not one transaction
        lines = build_demo(db.session, beneficiaries=beneficiaries, seed=seed,
                           commit=db.session.commit)
        db.session.commit()
        # Bulk inserts bypass the session hook: compute the demo's obligations once.
        from ..obligation_sync import engine_writes
        from ..services.obligations import rebuild

        now = datetime.now()
        with engine_writes(db.session):
            with deadlines_in_bulk(db.session) as rebuilt:
                report = rebuild(db.session, now, release_memory=True)
                rebuilt()
                # Issue 20 §8: past deliverables mostly done on time, a day's work left
                settled = settle_past_obligations(db.session, seed, now)
            db.session.commit()
    refresh_statistics(db.engine)  # the planner's figures for the rows just written
    for line in lines:
        click.echo(line)  # the summary ends with the demo logins
    click.echo(f"  {report.total.created} échéances calculées")
    click.echo(settled.line())


def _print_demo_logins(password: str) -> None:
    """Remind the demo accounts when the demo was seeded on an earlier run."""
    demo_users = db.session.scalars(
        select(User).where(User.email.like("%@demo.fr")).order_by(User.id)
    ).all()
    if demo_users:
        click.echo(f"Comptes de démonstration (mot de passe : {password}) :")
        for user in demo_users:
            click.echo(f"  {user.email:<28} {user.role.label}")


# --- errors: one French line ---------------------------------------------------------
class CommandFailed(click.ClickException):
    """A command's error, shown as « Erreur : … » on one line."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(" ".join(message.split()))
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        click.echo(f"Erreur : {self.format_message()}", err=True, file=file)


#: click's English messages → French (click 8.x wording).
_USAGE_MESSAGES = [
    (r"Missing option '(.+?)'\.?", "l'option {0} est obligatoire."),
    (r"Missing argument '(.+?)'\.?", "l'argument {0} est obligatoire."),
    (r"No such option: (\S+?)\.?(?: Did you mean .*)?", "option inconnue : {0}."),
    (r"No such command '(.+?)'\.?", "commande inconnue : {0}."),
    (r"Got unexpected extra arguments? \((.+)\)\.?", "argument en trop : {0}."),
    (r"Option '(.+?)' requires an argument\.?", "l'option {0} attend une valeur."),
    (r"Invalid value for '?(.+?)'?: (.*)", "valeur invalide pour {0} : {1}"),
]
_VALUE_MESSAGES = [
    (r"'(.*)' is not one of (.*)\.", "« {0} » n'est pas parmi {1}."),
    (r"'(.*)' is not a valid integer( range)?\.", "« {0} » n'est pas un nombre entier."),
    (r"'(.*)' is not a valid float( range)?\.", "« {0} » n'est pas un nombre."),
    (r"(.*) is not in the range (.*)\.", "{0} est hors des limites ({1})."),
    (r"'(.*)' does not match the formats? (.*)\.", "« {0} » n'est pas une date AAAA-MM-JJ."),
    (r"File '(.*)' does not exist\.", "le fichier « {0} » n'existe pas."),
    (r"(?:File|Path|Directory) '(.*)' is not writable\.", "« {0} » n'est pas accessible en "
                                                          "écriture."),
]


def _translate(message: str, table) -> str | None:
    for pattern, french in table:
        if match := re.fullmatch(pattern, message.strip(), re.S):
            return french.format(*(group or "" for group in match.groups()))
    return None


def french_usage(error: click.UsageError) -> str:
    """click's message for a mistyped command line, in French."""
    message = error.format_message()
    french = _translate(message, _USAGE_MESSAGES)
    if french is None:
        return message
    if french.startswith("valeur invalide"):
        option, value_message = re.fullmatch(_USAGE_MESSAGES[-1][0], message.strip(),
                                             re.S).groups()
        return f"valeur invalide pour {option} : " \
            f"{_translate(value_message, _VALUE_MESSAGES) or value_message}"
    return french


def unexpected_error_message(error: Exception) -> str:
    """The line shown for a failure no rule foresaw (details in the log, not on screen)."""
    from ..errors import database_error_message

    if isinstance(error, SQLAlchemyError):
        return database_error_message(error)
    return (f"la commande a échoué ({type(error).__name__}) ; rien n'a été enregistré. "
            f"Pour le détail, relancez-la avec FLASK_DEBUG=1.")


class FrenchErrors:
    """Mixed into our commands: their errors become `CommandFailed` (see the module)."""

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            raise CommandFailed(french_usage(error), exit_code=error.exit_code) from None

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (CommandFailed, click.exceptions.Exit, click.Abort):
            raise
        except click.UsageError as error:
            raise CommandFailed(french_usage(error), exit_code=error.exit_code) from None
        except click.ClickException as error:
            raise CommandFailed(error.format_message(), exit_code=error.exit_code) from None
        except OutOfRange as error:
            db.session.rollback()
            raise CommandFailed(f"{error} Rien n'a été enregistré.") from None
        except Exception as error:  # noqa: BLE001 — one line, the rest in the log
            db.session.rollback()
            current_app.logger.debug("Commande en échec", exc_info=error)  # FLASK_DEBUG=1
            raise CommandFailed(unexpected_error_message(error)) from None


def with_french_errors(command: click.Command) -> click.Command:
    """Give `command` (and, for a group, every sub-command) `FrenchErrors`."""
    if not isinstance(command, FrenchErrors):
        command.__class__ = type(command.__class__.__name__,
                                 (FrenchErrors, command.__class__), {})
    for sub_command in getattr(command, "commands", {}).values():
        with_french_errors(sub_command)
    return command


def plausible_day(day: date, option: str) -> date:
    """A date option of a command within the years the application accepts (1980–2099,
    value_ranges.PLAUSIBLE_DATES), else a French usage error naming the option."""
    first, last = PLAUSIBLE_DATES
    if not first <= day <= last:
        raise click.BadParameter(
            f"le {day.day:02d}/{day.month:02d}/{day.year:04d} est hors des années acceptées "
            f"({first.year}–{last.year}).",
            param_hint=option)
    return day


def init_app(app) -> None:
    """Register the command groups on the app, each with French one-line errors."""
    from . import audit, backup, esf, imports, obligations, privacy, reports

    before = set(app.cli.commands)
    app.cli.add_command(users_cli)
    app.cli.add_command(seed_cli)
    reports.register(app)
    obligations.register(app)
    privacy.register(app)
    backup.register(app)
    esf.register(app)  # issue 24
    imports.register(app)  # issue 23
    audit.register(app)  # issue 25 §3
    for name in set(app.cli.commands) - before:
        with_french_errors(app.cli.commands[name])
