from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommonConfig(AppConfig):
    """Tools every domain app uses (text, pages, exports, the import engine); imports none."""

    name = "common"
    verbose_name = _("Common tools")

    def ready(self) -> None:
        from django.conf import settings
        from PIL import Image

        from . import sessions  # noqa: F401  (connects the login receiver)
        from .logs import hide_national_ids_in_logs

        hide_national_ids_in_logs()

        # Pillow warns past this many pixels and refuses past twice as many; the evidence
        # check refuses past it (common/uploads.py), WeasyPrint's images follow Pillow's limit.
        Image.MAX_IMAGE_PIXELS = settings.IMAGE_MAX_PIXELS
