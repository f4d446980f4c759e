from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UnionsConfig(AppConfig):
    name = "unions"
    verbose_name = _("Union tree")

    def ready(self):
        from . import middleware  # noqa: F401  (connects the login receiver)
