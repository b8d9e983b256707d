"""BioSync settings: everything that varies between machines comes from the environment.

`.env.example` documents every variable. A `.env` file beside manage.py is read when present;
variables already set in the environment win over it. Values are read by django-environ
(biosync/env.py): one that does not parse stops the start with a line naming the variable.
"""

from pathlib import Path

from biosync.env import StrictEnv

BASE_DIR = Path(__file__).resolve().parent.parent
env = StrictEnv()
StrictEnv.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-dev-secret-key-change-me-" + "x" * 32)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

# Read by biosync/serve.py (scripts/serve); validated here so a typo fails every entry point alike.
HOST = env.str("HOST", default="127.0.0.1")
PORT = env.int("PORT", default=3000, minimum=1, maximum=65535)
SOCKET_PORT = env.int("SOCKET_PORT", default=3002, minimum=1, maximum=65535)
ASGI_SERVER = env.choice("ASGI_SERVER", ("uvicorn", "daphne"), default="uvicorn")
FORWARDED_ALLOW_IPS = env.str("FORWARDED_ALLOW_IPS", default="127.0.0.1")
HTTP_THREADS = env.int("HTTP_THREADS", default=8, minimum=1)
# GET /contacts and the message pages answered in front of Django's middleware (biosync/hotreads.py).
HTTP_HOT_READS = env.bool("HTTP_HOT_READS", default=True)
CORS_ORIGIN = env.list("CORS_ORIGIN", default=["http://localhost:3001"])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_prometheus",
    "users",
    "changelog",
    "contacts",
    "chat",
    "reports",
    "assist",
]

# django-prometheus's Before/After pair wraps the whole chain: request counts and latencies by
# view, method and status, served at /metrics with the chat metrics.
MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "biosync.middleware.request_log_middleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "biosync.middleware.DatabaseOutageMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "biosync.urls"
ASGI_APPLICATION = "biosync.asgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "biosync" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# Unset or empty DATABASE_URL: the embedded default, a SQLite file under var/.
DATABASE_URL = env.service_url(
    "DATABASE_URL", ("postgres", "postgresql", "sqlite"), default=f"sqlite:///{BASE_DIR / 'var' / 'biosync.sqlite3'}"
)
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
_db = DATABASES["default"]
_db["CONN_MAX_AGE"] = 0
if _db["ENGINE"] == "django.db.backends.postgresql":
    # Under ASGI every socket event would otherwise open its own connection; psycopg's pool
    # keeps them open. Django rejects persistent connections with a pool, so CONN_MAX_AGE=0.
    _db.setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=2, minimum=0),
        "max_size": env.int("DB_POOL_MAX_SIZE", default=20, minimum=1),
        "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
    }
elif _db["ENGINE"] == "django.db.backends.sqlite3":
    Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # SQLite allows one writer at a time: WAL lets readers go on while a write happens, and
    # IMMEDIATE makes a write transaction wait for the lock (up to `timeout`) at BEGIN instead
    # of failing half-way when a read turns into a write.
    _db.setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # pytest-django would otherwise use an in-memory database that a live server process
    # started by the tests could not see.
    _db["TEST"] = {"NAME": str(Path(_db["NAME"]).with_name("test_" + Path(_db["NAME"]).name))}

# The hot reads (kernel.queries.fetch_prepared) as prepared statements, planned once per pooled
# connection. Off for a connection pooler in transaction mode that cannot keep them. psycopg
# prepares nothing while prepare_threshold is None (Django's default); Django's own cursors bind
# on the client and are never prepared, so only the hot reads are.
DB_PREPARED_STATEMENTS = env.bool("DB_PREPARED_STATEMENTS", default=True)
if DB_PREPARED_STATEMENTS and _db["ENGINE"] == "django.db.backends.postgresql":
    _db["OPTIONS"]["prepare_threshold"] = 5

# The same backends wrapped by django-prometheus: connections, queries, their time and errors.
_db["ENGINE"] = _db["ENGINE"].replace("django.db.backends.", "django_prometheus.db.backends.")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, presence and the realtime layer -------------------------------------------------
# Unset or empty REDIS_URL: presence and pub/sub stay inside one process.
# `redis+sentinel://host1:26379,host2:26379/<db>/<service>`: the primary is found through
# Redis Sentinel, and again after a failover (kernel/redis.py).
REDIS_URL = env.service_url("REDIS_URL", ("redis", "rediss", "unix", "redis+sentinel"))
_redis_sentinel = env.sentinel_url_parts("REDIS_URL", REDIS_URL)
# Namespaces every Redis key and pub/sub channel, so several deployments (or test runs) can
# share one Redis server.
REDIS_KEY_PREFIX = env.str("REDIS_KEY_PREFIX", default="biosync")

MESSAGE_MAX_LENGTH = env.int("MESSAGE_MAX_LENGTH", default=4000, minimum=1)
MARK_READ_MAX_IDS = env.int("MARK_READ_MAX_IDS", default=500, minimum=1)
MESSAGE_EDIT_WINDOW_SECONDS = env.int("MESSAGE_EDIT_WINDOW_SECONDS", default=900, minimum=0)
# A send without clientMessageId repeating the sender's last one to the same user (same text)
# within this window is answered as a retry: the frontend's gaze selection emits each send twice.
# 0 turns the guard off.
DUPLICATE_SEND_WINDOW_MS = env.int("DUPLICATE_SEND_WINDOW_MS", default=1500, minimum=0)
TYPING_TIMEOUT_SECONDS = env.float("TYPING_TIMEOUT_SECONDS", default=6.0)
# Users flagged isParalyzed select letters by dwelling on them: a gap between two selections
# must not end their indicator (their own preference, when set, wins).
SLOW_TYPIST_TYPING_TIMEOUT_SECONDS = env.float("SLOW_TYPIST_TYPING_TIMEOUT_SECONDS", default=20.0)
# Suggestions (assist): how often each process learns new messages, and how old a message must
# be before it is read (a send still committing with a lower id is not skipped over).
ASSIST_LEARN_SECONDS = env.float("ASSIST_LEARN_SECONDS", default=2.0)
ASSIST_LEARN_SETTLE_SECONDS = env.float("ASSIST_LEARN_SETTLE_SECONDS", default=2.0)
# false: server processes do not learn; run `manage.py assist_learn` as a process of its own.
ASSIST_LEARN_IN_SERVER = env.bool("ASSIST_LEARN_IN_SERVER", default=True)
ASSIST_TEXT_MAX_LENGTH = env.int("ASSIST_TEXT_MAX_LENGTH", default=1000, minimum=1)
# Users' parsed models each process keeps, in MB of their stored JSON (parsed: about 7 times more).
ASSIST_MODEL_CACHE_MB = env.int("ASSIST_MODEL_CACHE_MB", default=32, minimum=1)
PRESENCE_HEARTBEAT_SECONDS = env.float("PRESENCE_HEARTBEAT_SECONDS", default=10.0)
PRESENCE_LEASE_SECONDS = env.float("PRESENCE_LEASE_SECONDS", default=30.0)
# A send announced "delivered" from another process's presence lease is announced "saved" again
# when no socket of its recipient has received it this long after (see chat/realtime/confirmations.py).
DELIVERY_CONFIRM_SECONDS = env.float("DELIVERY_CONFIRM_SECONDS", default=5.0)
# Per user, per window: generous enough for a reconnecting client flushing a queued outbox.
RATE_LIMIT_MESSAGES = env.int("RATE_LIMIT_MESSAGES", default=120)
RATE_LIMIT_TYPING = env.int("RATE_LIMIT_TYPING", default=120)
RATE_LIMIT_WINDOW_SECONDS = env.float("RATE_LIMIT_WINDOW_SECONDS", default=10.0)
# Abuse reports a user may file (POST /reports) per window of their own.
RATE_LIMIT_REPORTS = env.int("RATE_LIMIT_REPORTS", default=10, minimum=1)
RATE_LIMIT_REPORTS_WINDOW_SECONDS = env.float("RATE_LIMIT_REPORTS_WINDOW_SECONDS", default=3600.0)
# Sends arriving while the previous batch is being written are written together, up to this many.
SEND_BATCH_MAX = env.int("SEND_BATCH_MAX", default=256, minimum=1)
# Bytes waiting to be written to one socket before it is disconnected (chat/realtime/outbound.py).
SOCKET_MAX_BUFFER_BYTES = env.int("SOCKET_MAX_BUFFER_BYTES", default=8 * 1024 * 1024, minimum=65536)
# Connection state recovery (socket.io-client 4.6+): a socket whose transport dropped less than
# this long ago gets back its identity, rooms and the events it missed. 0 turns it off.
RECOVERY_WINDOW_SECONDS = env.int("RECOVERY_WINDOW_SECONDS", default=120, minimum=0)
# Per user, the recoverable events kept for it: a longer absence recovers with /sync instead.
RECOVERY_MAX_EVENTS = env.int("RECOVERY_MAX_EVENTS", default=1000, minimum=1)

# Channels' layer carries no chat traffic: python-socketio's Redis manager is the one pub/sub path
# between server processes (it carries acks, disconnects and rooms, which groups cannot). The
# layer stays configured so Channels code (consumers, `channel_layer` in a shell) works against
# the same Redis; see README, Layout.
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8's default 5 s socket timeout breaks idle receives (channels_redis#422).
            "CONFIG": {
                "hosts": [
                    {"address": REDIS_URL, "socket_timeout": None}
                    if _redis_sentinel is None
                    else {
                        "sentinels": _redis_sentinel[0],
                        "master_name": _redis_sentinel[1],
                        **_redis_sentinel[2],
                        "socket_timeout": None,
                    }
                ],
                "prefix": f"{REDIS_KEY_PREFIX}:asgi",
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Identity ---------------------------------------------------------------------------------
CLERK_JWT_KEY = env.str("CLERK_JWT_KEY", default="", multiline=True)
CLERK_JWKS_URL = env.str("CLERK_JWKS_URL", default="")
CLERK_ISSUER = env.str("CLERK_ISSUER", default="")
CLERK_AUTHORIZED_PARTIES = env.list("CLERK_AUTHORIZED_PARTIES", default=[])
CLERK_WEBHOOK_SECRET = env.str("CLERK_WEBHOOK_SECRET", default="")
CLERK_LEEWAY_SECONDS = env.int("CLERK_LEEWAY_SECONDS", default=5, minimum=0)
# `clerk` when a key or JWKS URL is configured, else `dev` (the seed's trusted x-clerk-id).
AUTH_MODE = env.choice("AUTH_MODE", ("dev", "clerk"), default="clerk" if (CLERK_JWT_KEY or CLERK_JWKS_URL) else "dev")

# --- HTTP API ---------------------------------------------------------------------------------
CORS_ALLOWED_ORIGINS = CORS_ORIGIN
CORS_ALLOW_CREDENTIALS = True
CORS_ALLOW_HEADERS = ["accept", "authorization", "content-type", "x-clerk-id", "x-requested-with"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["users.authentication.ClerkIdentityAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # JSON only: the frontend sends JSON, and a single parser keeps the browsable API's form raw JSON.
    "DEFAULT_PARSER_CLASSES": ["kernel.api.SafeJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "kernel.api_errors.error_body_exception_handler",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "BioSync API",
    "DESCRIPTION": "REST API of the BioSync chat backend (the realtime protocol is Socket.IO).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The documentation itself needs no identity.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    # A PATCH body documents each field's own `required`: PATCH /contacts/{id} needs nickname,
    # PATCH /users/me needs nothing in particular.
    "COMPONENT_SPLIT_PATCH": False,
    "ENUM_NAME_OVERRIDES": {"UserStatusEnum": "users.models.UserStatus"},
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Static files, security -------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on every request while it is missing
# WhiteNoise serves the admin's and the API docs' assets from the server itself (no CDN).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# TLS usually ends at the proxy in front of the server; turn this on when it does not.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
# Probes and the metrics scraper talk plain HTTP to the process, behind the TLS proxy.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 3600, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = False
CSRF_TRUSTED_ORIGINS = CORS_ORIGIN

LOG_LEVEL = env.choice("LOG_LEVEL", ("debug", "info", "warning", "error", "critical"), default="info").upper()
# json: one JSON object per line (kernel/logging.py), for log shippers in production;
# plain: for reading in a terminal, the default in development.
LOG_FORMAT = env.choice("LOG_FORMAT", ("json", "plain"), default="plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    # False keeps daphne's and the Socket.IO server's own loggers working.
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "kernel.logging.JsonFormatter"},
        "plain": {"()": "kernel.logging.PlainFormatter", "format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain" if LOG_FORMAT == "plain" else "json"}
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own console handler (DEBUG only) would print its lines a second time, unformatted.
        "django": {"handlers": [], "level": "INFO"},
        # At DEBUG these would print SQL parameters, message text included.
        "django.db.backends": {"level": "WARNING"},
        # Its 4xx WARNINGs repeat the http.request line (biosync/middleware.py); 5xx still log here.
        "django.request": {"level": "ERROR"},
        "engineio": {"level": "WARNING"},
        "socketio": {"level": "WARNING"},
    },
}
