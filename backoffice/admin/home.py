"""The admin home page: a welcome and, for the user's role, the menus they may open."""
from flask import redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_login import current_user


class HomeView(AdminIndexView):
    """« Accueil »: login required; lists the screens the role may open, by menu."""

    def __init__(self):
        super().__init__(name="Accueil", url="/admin", template="admin/home.html")

    def is_accessible(self) -> bool:
        return current_user.is_authenticated

    def inaccessible_callback(self, name, **kwargs):
        return redirect(url_for("auth.login", next=request.path))

    def menus_for_current_user(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """[(menu name, [(screen name, url), …]), …] of the screens this user may open."""
        menus: dict[str, list[tuple[str, str]]] = {}
        for view in self.admin._views:
            if view is self or not view.is_accessible():
                continue
            menu = view.category or view.name
            menus.setdefault(menu, []).append((view.name, url_for(f"{view.endpoint}.index_view")))
        return list(menus.items())

    @expose("/")
    def index(self):
        return self.render(self._template, menus=self.menus_for_current_user())
