"""Django's own messages that the portal words differently in Vietnamese.

Listed here so that ``makemessages`` keeps them in locale/vi: the project's catalogue comes
before Django's, so its Vietnamese is the one shown.
"""

from django.utils.translation import gettext_noop

REWORDED = (
    # Django: "Mật khẩu cũ của bạn đã được nhập không chính xác..."
    gettext_noop("Your old password was entered incorrectly. Please enter it again."),
    gettext_noop("A user with that username already exists."),
    # The account's "active" box on the user form.
    gettext_noop("active"),
)
