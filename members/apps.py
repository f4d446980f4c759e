from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Members")

    def ready(self) -> None:
        from unions.signals import unit_closing, unit_merged

        from .services import move_members_to_successor, refuse_closing_with_members

        unit_closing.connect(refuse_closing_with_members, dispatch_uid="members_unit_closing")
        unit_merged.connect(move_members_to_successor, dispatch_uid="members_unit_merged")
