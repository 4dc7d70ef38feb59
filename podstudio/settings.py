"""Pod Studio settings: everything that varies between machines comes from the environment.

Two modes (docs/operations.md):
- local mode (the default of `make run`): bound to 127.0.0.1, no login, localhost names only;
- team mode (`PODSTUDIO_AUTH=required`, a non-loopback bind (`make run HOST=0.0.0.0` sets
  PODSTUDIO_BIND), or any allowed host that is not a loopback name):
  login for everything, API tokens, per-context permissions, every deploy attributed.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "[::1]", "::1"}


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


ALLOWED_HOSTS = [h for h in os.environ.get("PODSTUDIO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h]
PODSTUDIO_TEAM_MODE = (
    os.environ.get("PODSTUDIO_AUTH", "").lower() == "required"
    or os.environ.get("PODSTUDIO_BIND", "127.0.0.1") not in LOOPBACK_NAMES
    or any(host not in LOOPBACK_NAMES for host in ALLOWED_HOSTS)
)

# Off in both modes: Django's debug pages list settings, environment variables and the URLconf
# to whoever can make a request fail. PODSTUDIO_DEBUG=true opts in, for developers.
DEBUG = env_bool("PODSTUDIO_DEBUG", False)
SECRET_KEY = os.environ.get("PODSTUDIO_SECRET_KEY", "")
if not SECRET_KEY:
    # Whatever DEBUG says: the development key is public, and anyone who knows it can forge sessions.
    if PODSTUDIO_TEAM_MODE:
        raise RuntimeError("Team mode needs PODSTUDIO_SECRET_KEY (a long random string) in the environment.")
    SECRET_KEY = "dev-only-insecure-key-for-local-mode"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "csp",
    "axes",
    "composer",
]

MIDDLEWARE = [
    # First: a request for a host name that is not ours gets a short plain 400 before anything
    # else asks for the host (Django's own DisallowedHost page is the debug page when DEBUG is on).
    "composer.http.middleware.hosts.RefuseForeignHostMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "composer.http.middleware.streaming.AsyncStreamingMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Turns a locked-out login or API token attempt into the 429 of composer.http.throttle; it must
    # wrap ApiTokenMiddleware, which reports failed tokens to axes.
    "axes.middleware.AxesMiddleware",
    "composer.http.middleware.auth.ApiTokenMiddleware",
    "composer.http.middleware.auth.TeamLoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "podstudio.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "composer.web.context_processors.mode",
            ],
        },
    },
]

WSGI_APPLICATION = "podstudio.wsgi.application"
ASGI_APPLICATION = "podstudio.asgi.application"

SQLITE_OPTIONS = {
    # WAL lets log and status streams read while an edit writes; autosave writes often,
    # and NORMAL sync is durable across application crashes (not power loss).
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
}


def database_from_url(url: str) -> dict:
    """Team mode's database (DATABASE_URL; the tests' PostgreSQL run uses it too). Connections are
    not kept between requests by default: under ASGI (uvicorn) every request runs in a thread of its
    own, so a kept connection is never reused, only left open until its thread is collected (Django's
    docs: "When using ASGI, persistent connections should be disabled"). PODSTUDIO_DB_CONN_MAX_AGE
    keeps them for that many seconds under a WSGI server; health checks then test a kept one first."""
    return dj_database_url.parse(url, conn_max_age=int(os.environ.get("PODSTUDIO_DB_CONN_MAX_AGE", "0")),
                                 conn_health_checks=True)


if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": database_from_url(os.environ["DATABASE_URL"])}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("PODSTUDIO_SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": SQLITE_OPTIONS,
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Collected, hashed and compressed files when `manage.py collectstatic` ran (the Dockerfile does);
# otherwise WhiteNoise serves the source files, so `make run` needs no build step in any mode.
COLLECTED = (STATIC_ROOT / "staticfiles.json").exists()
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if COLLECTED and not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not COLLECTED

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "composer:home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes, docs/operations.md): failed logins (the login page, the admin's)
# and failed API tokens are counted in the database, so every server process shares the counts.
# A user name and a client address are locked separately, each after PODSTUDIO_LOGIN_FAILURE_LIMIT
# failures, for PODSTUDIO_LOGIN_COOLOFF_MINUTES after the last counted one; the answer is a 429 that
# says how long to wait. The rules are in composer/throttle.py.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses locked-out attempts before any password check
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = True
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = int(os.environ.get("PODSTUDIO_LOGIN_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("PODSTUDIO_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = "composer.http.throttle.lockout_parameters"
AXES_CLIENT_IP_CALLABLE = "composer.http.throttle.client_address"
AXES_LOCKOUT_CALLABLE = "composer.http.throttle.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # attempts while locked out are refused, not counted
AXES_VERBOSE = False  # no banner on every manage.py command; lockouts are still logged (warnings)
# A successful login clears that user name's failures from that address only (composer.http.throttle):
# axes' own reset would clear every failure of the address, so logging in to one's own account
# would reset the count of someone guessing another person's password from the same address.
AXES_RESET_ON_SUCCESS = False
# Proxies in front that append the address they saw to X-Forwarded-For (an Ingress controller: 1).
# 0 counts failures against REMOTE_ADDR, which behind a proxy is the proxy's, for everyone.
PODSTUDIO_PROXY_COUNT = int(os.environ.get("PODSTUDIO_PROXY_COUNT", "0"))

# E-mail, only for password-reset links: without PODSTUDIO_EMAIL_HOST the reset pages do not exist.
EMAIL_HOST = os.environ.get("PODSTUDIO_EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("PODSTUDIO_EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("PODSTUDIO_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("PODSTUDIO_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("PODSTUDIO_EMAIL_TLS", True)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("PODSTUDIO_EMAIL_FROM", "webmaster@localhost")
PODSTUDIO_PASSWORD_RESET = bool(EMAIL_HOST)

# Compositions and imported manifests are small; refuse anything bigger early.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Security headers. No inline script anywhere, so the policy needs no 'unsafe-inline' for scripts.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        # A page that asks for request.csp_nonce (the composer: CodeMirror's <style> element) gets one; others none.
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if env_bool("PODSTUDIO_HTTPS", False):
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31536000
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("PODSTUDIO_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# Plain text on a developer's terminal (local mode, or debug), JSON lines in team mode.
LOG_FORMAT = os.environ.get("PODSTUDIO_LOG_FORMAT", "json" if PODSTUDIO_TEAM_MODE and not DEBUG else "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    # Never log credentials: drops what the kubernetes.config package logs (a failed exec plugin's
    # stderr) and scrubs tokens, passwords and user:password@ from every other record.
    "filters": {"credentials": {"()": "composer.cluster.logfilter.CredentialFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["credentials"],
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("PODSTUDIO_LOG_LEVEL", "INFO")},
    "loggers": {"django.server": {"level": "INFO"}},
}

# Runtime view (docs/runtime.md): lines a log view keeps, characters shown per line before
# "show more", concurrent streams per server process and per person (team mode), keep-alive and
# watch renewal periods.
PODSTUDIO_LOG_MAX_LINES = int(os.environ.get("PODSTUDIO_LOG_MAX_LINES", "5000"))
PODSTUDIO_LOG_LINE_CHARS = int(os.environ.get("PODSTUDIO_LOG_LINE_CHARS", "2000"))
PODSTUDIO_MAX_STREAMS = int(os.environ.get("PODSTUDIO_MAX_STREAMS", "40"))
PODSTUDIO_MAX_STREAMS_PER_USER = int(os.environ.get("PODSTUDIO_MAX_STREAMS_PER_USER", "8"))
PODSTUDIO_SSE_HEARTBEAT = float(os.environ.get("PODSTUDIO_SSE_HEARTBEAT", "15"))
PODSTUDIO_WATCH_SECONDS = int(os.environ.get("PODSTUDIO_WATCH_SECONDS", "50"))

# Schema validation target when the cluster's version is unknown.
PODSTUDIO_KUBERNETES_VERSION = os.environ.get("PODSTUDIO_KUBERNETES_VERSION", "1.33.0")
