"""Command-line tools: `flask users`, `flask seed` (more commands join as issues land)."""
import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from .enums import Role
from .extensions import db
from .models import User

users_cli = AppGroup("users", help="Gérer les comptes utilisateurs.")
seed_cli = AppGroup("seed", help="Charger les données de référence et de démonstration.")


@users_cli.command("create")
@click.option("--email", required=True, help="Adresse e-mail (identifiant de connexion).")
@click.option("--name", required=True, help="Nom affiché.")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]),
              help="Rôle : admin, coordinator, commission, counsellor ou viewer.")
@click.option("--password", prompt="Mot de passe", hide_input=True, confirmation_prompt=True,
              help="Mot de passe (demandé s'il n'est pas donné).")
def create_user(email: str, name: str, role: str, password: str) -> None:
    """Create a staff account."""
    email = email.strip().lower()
    if db.session.scalar(select(User).where(User.email == email)):
        raise click.ClickException(f"Un compte existe déjà avec l'adresse {email}.")
    if len(password) < 8:
        raise click.ClickException("Mot de passe : 8 caractères au minimum.")
    user = User(email=email, name=name, role=Role(role))
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Compte créé : {email} ({Role(role).label}).")


@users_cli.command("list")
def list_users() -> None:
    """List staff accounts."""
    for user in db.session.scalars(select(User).order_by(User.email)):
        state = "actif" if user.active else "désactivé"
        click.echo(f"{user.email}\t{user.name}\t{user.role.label}\t{state}")


@seed_cli.command("reference")
def seed_reference() -> None:
    """Load the reference data of seeds/ (idempotent: run twice, same rows)."""
    from .seeding.reference import load_reference

    counts = load_reference(db.session, current_app.config.get("SEEDS_DIR"))
    db.session.commit()
    for table, count in counts.items():
        click.echo(f"{table} : {count}")


@seed_cli.command("demo")
@click.option("--beneficiaries", default=300, show_default=True, type=click.IntRange(1))
@click.option("--seed", default=1, show_default=True, type=int, help="Graine du hasard.")
def seed_demo(beneficiaries: int, seed: int) -> None:
    """Build a deterministic demo dataset (needs the reference data)."""
    from .seeding.demo import build_demo

    summary = build_demo(db.session, beneficiaries=beneficiaries, seed=seed)
    db.session.commit()
    for line in summary:
        click.echo(line)


def init_app(app) -> None:
    """Register the command groups on the app."""
    app.cli.add_command(users_cli)
    app.cli.add_command(seed_cli)
