"""Settings for Tương Thân, read from the environment in one place.

Every knob is listed here with its embedded default (SQLite, no Redis, DEBUG on
for the demo) beside what production sets through the environment.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: str = "") -> bool:
    return os.environ.get(name, default).strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    return int(os.environ.get(name, "") or default)


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", "true")
# The embedded key only works with DEBUG on; production must set SECRET_KEY.
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "insecure-demo-key-only-for-debug"
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "portal.admin.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "common",
    "unions",
    "members",
    "welfare",
    "seed",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "common.sessions.SlidingSessionMiddleware",
    "portal.middleware.PortalLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Before the forced password change: who is signing in is proved first.
    "unions.middleware.SecondFactorRequiredMiddleware",
    "unions.middleware.PasswordChangeRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a refused login into the lockout page.
    "axes.middleware.AxesMiddleware",
]
if envbool("BENCH_COUNT_QUERIES"):  # bench/run.py: queries and server time as headers
    MIDDLEWARE.insert(0, "bench.querycount.QueryCountMiddleware")

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "unions.context_processors.scope",
            ],
        },
    },
]

# SQLite is the embedded default so the demo needs nothing installed;
# production and CI set DATABASE_URL=postgres://...
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}",
        conn_max_age=envint("DB_CONN_MAX_AGE", 60),
        # A kept connection the database dropped (a restart, pg_terminate_backend, a failover)
        # is found dead before the request uses it and replaced, rather than failing it.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out username and address before the password is
# checked, and needs the request passed to authenticate() (the login views do).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Vietnamese numbers grouped by thousands (100.000): see portal/formats/vi/formats.py.
FORMAT_MODULE_PATH = ["portal.formats"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
# Front-end packages come from npm (package.json) and are served by the portal
# itself: users sit on closed networks with no CDN.
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", NODE_MODULES / "bootstrap-icons" / "font"),
    # Noto Serif / Noto Sans (with the Vietnamese subset): the report PDF reads them from
    # node_modules directly; the web page and its charts get them from here.
    ("vendor/fonts", NODE_MODULES / "@fontsource"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
# Evidence files kept across a case form shown again with errors (welfare PendingUpload) are
# deleted this many hours after they were chosen, by the daily clean_pending_uploads.
PENDING_UPLOAD_HOURS = envint("PENDING_UPLOAD_HOURS", 24)
# Uploads (common/uploads.py checks their content): a file over 2.5 MB goes to a temporary file
# rather than memory while it arrives, and a form without files may carry 2.5 MB at most.
# Each upload's own limit (10 MB evidence, 50 MB imports) is checked from its size before a
# byte of it is read; the reverse proxy should refuse bodies over 60 MB (README, Operations).
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# An image of more pixels is refused as evidence before it is decoded (a 10 MB PNG can hold a
# gigapixel of one colour), and Pillow refuses to open one anywhere in the portal.
IMAGE_MAX_PIXELS = envint("IMAGE_MAX_PIXELS", 50_000_000)
# How long the access log keeps who read a case file or a member's personal data (days).
PERSONAL_DATA_LOG_DAYS = envint("PERSONAL_DATA_LOG_DAYS", 5 * 365 + 1)
# The version of the personal-data notice (templates/welfare/privacy/notice.html) a consent
# recorded today refers to: change it with the notice's text.
PERSONAL_DATA_NOTICE_VERSION = os.environ.get("PERSONAL_DATA_NOTICE_VERSION", "2026-01")
# Public holidays (ISO dates, comma-separated) that a data-subject request's deadline in
# working days skips besides Saturdays and Sundays; empty by default.
PERSONAL_DATA_HOLIDAYS = envlist("PERSONAL_DATA_HOLIDAYS")

# Widgets render with the project's templates too (templates/django/forms/: the empty choice).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

REDIS_URL = os.environ.get("REDIS_URL", "")
# Without Redis (the demo) Celery uses kombu's filesystem broker, which needs no server.
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
CELERY_TASK_ACKS_LATE = False
# One deployment's workers, or a load run's server, may keep to a queue of their own.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "celery")
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A request that queues work never waits long on a broker that is down: a short connection
# timeout and one quick retry, then the row waits for welfare.tasks.requeue_waiting.
CELERY_BROKER_CONNECTION_TIMEOUT = envint("CELERY_BROKER_TIMEOUT", 2)
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, int | str]
if REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": envint("CELERY_VISIBILITY_TIMEOUT", 3600),
        # How often a worker looks for messages a killed worker never acknowledged (those
        # older than the visibility timeout go back to their queue): one sweep a minute.
        "unacked_restore_interval": envint("CELERY_RESTORE_INTERVAL", 60),
        "unacked_restore_throttle": 1,
        "socket_connect_timeout": envint("CELERY_BROKER_TIMEOUT", 2),
        "socket_timeout": 5,
    }
else:
    _queue_dir = BASE_DIR / "var" / "celery"
    # The queue's folder must exist before anything is queued (the demo seed queues e-mails).
    (_queue_dir / "control").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        # Else kombu writes its exchange tables to ./control in the working directory.
        "control_folder": str(_queue_dir / "control"),
    }
CELERY_TIMEZONE = TIME_ZONE
# Run by `celery beat` (docker-compose's beat service; `make demo` runs it inside its worker).
CELERY_BEAT_SCHEDULE = {
    "clean-pending-uploads": {
        "task": "welfare.tasks.clean_pending_uploads",
        "schedule": crontab(hour=3, minute=15),
    },
    "requeue-waiting": {
        "task": "welfare.tasks.requeue_waiting",
        "schedule": crontab(minute="*/2"),
    },
    "prune-access-log": {
        "task": "welfare.tasks.prune_access_log",
        "schedule": crontab(hour=3, minute=45),
    },
    "mark-overdue-loans": {
        "task": "welfare.tasks.mark_overdue_loans",
        "schedule": crontab(hour=1, minute=5),  # daily, after midnight in the province
    },
    "count-membership-year": {
        "task": "welfare.tasks.count_membership_year",
        "schedule": crontab(hour=1, minute=20),
    },
}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "tuongthan@localhost")
# For the SMTP backend (password reset mails): the province's mail server.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS")
# Where the portal is reached, for the links in e-mails written outside a request (a Celery
# worker sending a notice has no request to read the host from).
PORTAL_URL = os.environ.get("PORTAL_URL", "http://127.0.0.1:8000").rstrip("/")

# --- Logins: repeated failures lock one username from one address (django-axes) -------------
# The pair, not the username alone (anyone could lock out anyone) nor the address alone (one
# office behind one NAT address would lock out each other).
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "portal.views.locked_out"
# The client's address: REMOTE_ADDR, or behind TRUSTED_PROXIES reverse proxies the address the
# outermost of them put into X-Forwarded-For (what a client writes there itself is ignored).
BEHIND_PROXY = envbool("BEHIND_PROXY")
TRUSTED_PROXIES = envint("TRUSTED_PROXIES", 1 if BEHIND_PROXY else 0)
AXES_CLIENT_IP_CALLABLE = "portal.clientip.client_ip"

# --- Second factor: TOTP codes (django-otp) for the accounts unions.second_factor names ------
# Off only for a demo or the tests: with DEBUG off, `check --deploy` warns (portal.checks).
PORTAL_SECOND_FACTOR = envbool("PORTAL_SECOND_FACTOR", "true")
# The name an authenticator app shows beside the account.
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Tương Thân")
# A wrong code makes the next try wait 1, 2, 4, 8 ... seconds on that device (django-otp),
# until a right one: a million six-digit codes cannot be walked through.
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1

# --- Sessions: they end after SESSION_IDLE_MINUTES without a request ------------------------
# common.sessions.SlidingSessionMiddleware moves the expiry forward at most once a minute,
# rather than SESSION_SAVE_EVERY_REQUEST's write on every request.
SESSION_COOKIE_AGE = envint("SESSION_IDLE_MINUTES", 30) * 60
SESSION_REFRESH_SECONDS = 60

# --- HTTPS and browser protections: on by default when DEBUG is off -------------------------
SECURE_COOKIES = envbool("SECURE_COOKIES", "false" if DEBUG else "true")
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
# No script of the portal reads the CSRF cookie (forms carry the token), so scripts may not.
CSRF_COOKIE_HTTPONLY = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "false" if DEBUG else "true")
# The health check of docker-compose asks over plain HTTP from inside the container.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = envint("HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("HSTS_INCLUDE_SUBDOMAINS", "true")
SECURE_HSTS_PRELOAD = envbool("HSTS_PRELOAD", "true")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): every script, style and font from the portal itself,
# nothing inline (templates carry no script or style attribute; widths of progress bars are
# set from data-width by static/js/bar-widths.js), no frames, forms posted only here.
# Bootstrap draws some controls with data: SVG images.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

PAGE_SIZE = envint("PAGE_SIZE", 50)

# The error report mailed to ADMINS leaves out ID numbers and case circumstances (common/logs.py).
DEFAULT_EXCEPTION_REPORTER_FILTER = "common.logs.PersonalDataReporterFilter"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
