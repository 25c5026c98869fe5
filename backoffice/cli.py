"""Command-line tools: `flask users`, `flask seed`, and the commands registered by their
modules (`flask export`, `flask obligations`, `flask alerts`, `flask privacy`, `flask backup`)."""
from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from .auth.passwords import password_problem
from .enums import Role
from .extensions import db
from .models import Funder, User

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
    email = email.strip().lower()
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
    from .seeding.reference import load_reference

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
    from .maintenance import refresh_statistics
    from .models import Beneficiary
    from .seeding.demo import DEMO_PASSWORD, build_demo

    if if_empty and db.session.scalar(select(Beneficiary.id).limit(1)) is not None:
        click.echo("Base déjà remplie : données de démonstration non rechargées.")
        _print_demo_logins(DEMO_PASSWORD)
        return
    lines = build_demo(db.session, beneficiaries=beneficiaries, seed=seed)
    db.session.commit()
    # Bulk inserts bypass the session hook: compute the demo's obligations once.
    from .obligation_sync import engine_writes
    from .services.obligations import rebuild

    with engine_writes(db.session):
        report = rebuild(db.session, datetime.now(), release_memory=True)
        db.session.commit()
    refresh_statistics(db.engine)  # the planner's figures for the rows just written
    for line in lines:
        click.echo(line)  # the summary ends with the demo logins
    click.echo(f"  {report.total.created} échéances calculées")


def _print_demo_logins(password: str) -> None:
    """Remind the demo accounts when the demo was seeded on an earlier run."""
    demo_users = db.session.scalars(
        select(User).where(User.email.like("%@demo.fr")).order_by(User.id)
    ).all()
    if demo_users:
        click.echo(f"Comptes de démonstration (mot de passe : {password}) :")
        for user in demo_users:
            click.echo(f"  {user.email:<28} {user.role.label}")


def init_app(app) -> None:
    """Register the command groups on the app."""
    from . import backup, obligation_commands, privacy_commands, report_commands

    app.cli.add_command(users_cli)
    app.cli.add_command(seed_cli)
    report_commands.register(app)
    obligation_commands.register(app)
    privacy_commands.register(app)
    backup.register(app)
