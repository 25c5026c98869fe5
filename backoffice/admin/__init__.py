"""Flask-Admin: one view per table, grouped in French menus (stub, filled in below)."""
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme


def init_admin(app) -> Admin:
    """Create the Admin inside the factory (a module-level one breaks a second app)."""
    admin = Admin(app, name="Parcours", theme=Bootstrap4Theme(), url="/admin")
    return admin
