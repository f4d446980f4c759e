from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WelfareConfig(AppConfig):
    name = "welfare"
    verbose_name = _("Welfare")

    def ready(self) -> None:
        from unions.signals import tree_changed

        from .reports.tallies import recount_after_reorganisation

        tree_changed.connect(recount_after_reorganisation, dispatch_uid="welfare_tree_changed")
