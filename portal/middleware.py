import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY as AUTH_SESSION_KEY
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class PortalLocaleMiddleware(LocaleMiddleware):
    """Vietnamese unless the user chose another language with the switcher.

    Django's own middleware follows the browser's Accept-Language, which would show English
    to anyone whose browser happens to be set up in English.
    """

    def process_request(self, request):
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class SlidingSessionMiddleware:
    """Sessions end after SESSION_COOKIE_AGE seconds without a request.

    Django moves a session's expiry forward only when the session is saved. Saving it on every
    request (SESSION_SAVE_EVERY_REQUEST) costs a database write per page; here the session is
    marked changed only when its last refresh is older than SESSION_REFRESH_SECONDS, so an
    active user costs one write a minute and the idle limit is kept to within that minute.
    """

    KEY = "_refreshed"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        # Only a signed-in session: an expired or anonymous one is not brought back to life.
        if session is not None and session.session_key and AUTH_SESSION_KEY in session:
            now = int(time.time())
            if now - session.get(self.KEY, 0) >= settings.SESSION_REFRESH_SECONDS:
                session[self.KEY] = now
        return self.get_response(request)
