from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommonConfig(AppConfig):
    """Tools every domain app uses (text, pages, exports, the import engine); imports none."""

    name = "common"
    verbose_name = _("Common tools")

    def ready(self) -> None:
        from . import sessions  # noqa: F401  (connects the login receiver)
        from .logs import hide_national_ids_in_logs

        hide_national_ids_in_logs()
