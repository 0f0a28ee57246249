"""Django settings, read from the environment (see README, "Configuration")."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("LINDA_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("LINDA_DEBUG", False)


def _secret_key() -> str:
    """LINDA_SECRET_KEY, or a random key kept in the var directory (embedded installs)."""
    import secrets

    from_env = os.environ.get("LINDA_SECRET_KEY")
    if from_env:
        return from_env
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("LINDA_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("LINDA_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "linda.accounts",
    "linda.audit",
    "linda.registry",
    "linda.rollout",
    "linda.monitoring",
    "linda.sla",
    "linda.energy",
    "linda.alerts",
    "linda.simulate",
    "linda.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "linda.web.context_processors.demo_banner",
            ],
        },
    },
]


def _database_config() -> dict[str, object]:
    url = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'linda.sqlite3'}")
    config: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=60))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL journal plus a busy timeout: readers never block the writer, and a
        # second writer waits instead of failing with "database is locked".
        config["OPTIONS"] = {
            "timeout": env_int("LINDA_SQLITE_BUSY_TIMEOUT_S", 20),
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA foreign_keys=ON;"
            ),
        }
        config["CONN_MAX_AGE"] = 0
    # One test database per test process, so concurrent runs never share one.
    test_name = env_str("LINDA_TEST_DB_NAME", f"test_linda_{os.getpid()}")
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["TEST"] = {"NAME": str(VAR_DIR / f"{test_name}.sqlite3")}
    else:
        config["TEST"] = {"NAME": test_name}
    return config


DATABASES = {"default": _database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Bahasa Indonesia")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "linda" / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Asia/Jakarta"  # shown as WIB; the database stores UTC
USE_THOUSAND_SEPARATOR = True
FORMAT_MODULE_PATH = ["linda.formats"]

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# Front-end libraries come from the npm registry (package.json), never copied into the repo.
_NODE = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    (f"vendor/{name}", _NODE / name / sub)
    for name, sub in (("leaflet", "dist"), ("uplot", "dist"), ("htmx.org", "dist"))
    if (_NODE / name / sub).exists()
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_MAX_AGE = 3600

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:dashboard"
LOGOUT_REDIRECT_URL = "login"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LINDA_LOG_LEVEL", "INFO")},
}

# --- monitoring (linda/monitoring; documented in docs/devices.md) ---------------------------
# Intake: biggest request body and batch, how far a device clock may run ahead, and how old a
# heartbeat's measurement may be and still count as live (older ones are stored late=True).
LINDA_HB_MAX_BODY_BYTES = env_int("LINDA_HB_MAX_BODY_BYTES", 256 * 1024)
LINDA_HB_MAX_BATCH = env_int("LINDA_HB_MAX_BATCH", 1440)
LINDA_HB_FUTURE_SKEW_S = env_int("LINDA_HB_FUTURE_SKEW_S", 300)
LINDA_HB_LIVE_WINDOW_S = env_int("LINDA_HB_LIVE_WINDOW_S", 120)
# In-process token buckets (per intake process): requests per minute and burst, 0 = off.
# Many villages share the vendor's satellite NAT address, so the address limit is generous.
LINDA_HB_KEY_RATE_PER_MIN = env_int("LINDA_HB_KEY_RATE_PER_MIN", 60)
LINDA_HB_KEY_BURST = env_int("LINDA_HB_KEY_BURST", 30)
LINDA_HB_ADDR_RATE_PER_MIN = env_int("LINDA_HB_ADDR_RATE_PER_MIN", 60_000)
LINDA_HB_ADDR_BURST = env_int("LINDA_HB_ADDR_BURST", 5_000)
# Seconds an intake process may reuse a key lookup (a revocation elsewhere takes this long).
LINDA_HB_KEY_CACHE_S = env_int("LINDA_HB_KEY_CACHE_S", 10)
# Monitor: coverage mark period; marks further apart than the max gap break coverage.
LINDA_MONITOR_MARK_PERIOD_S = env_int("LINDA_MONITOR_MARK_PERIOD_S", 5)
LINDA_MONITOR_MAX_GAP_S = env_int("LINDA_MONITOR_MAX_GAP_S", 15)
LINDA_MONITOR_MATERIALIZE_EVERY_S = env_int("LINDA_MONITOR_MATERIALIZE_EVERY_S", 300)
# Metrics (linda/monitoring/retention.py): raw heartbeats and 5-minute roll-ups kept this many
# days (hourly roll-ups forever); the monitor rolls up, prunes and compacts this often.
LINDA_RAW_RETENTION_DAYS = env_int("LINDA_RAW_RETENTION_DAYS", 30)
LINDA_ROLLUP_5M_RETENTION_DAYS = env_int("LINDA_ROLLUP_5M_RETENTION_DAYS", 400)
LINDA_ROLLUP_EVERY_S = env_int("LINDA_ROLLUP_EVERY_S", 300)
# MQTT intake (`linda mqtt`).
LINDA_MQTT_HOST = env_str("LINDA_MQTT_HOST", "127.0.0.1")
LINDA_MQTT_PORT = env_int("LINDA_MQTT_PORT", 1883)
LINDA_MQTT_USERNAME = env_str("LINDA_MQTT_USERNAME", "")
LINDA_MQTT_PASSWORD = env_str("LINDA_MQTT_PASSWORD", "")
LINDA_MQTT_TOPIC = env_str("LINDA_MQTT_TOPIC", "linda/+/hb")
LINDA_MQTT_CLIENT_ID = env_str("LINDA_MQTT_CLIENT_ID", "linda-intake")
# The address routers use to reach this server (printed into router scripts).
LINDA_PUBLIC_URL = env_str("LINDA_PUBLIC_URL", "http://127.0.0.1:8000")
# --- end monitoring --------------------------------------------------------------------------
