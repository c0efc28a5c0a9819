"""Rapport's one settings module: every deploy-specific value comes from the environment.

``RAPPORT_ENV`` picks the posture: ``development`` (the default: debug on, console e-mail),
``test`` (set by the test suite) or ``production`` (hardened; refuses to start without a real
secret key). See the README for the full list of variables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from rapport.core.crypto import field_encryption_keys_from_env
from rapport.core.env import Env
from rapport.core.middleware import add_static_file_headers
from rapport.core.siteurl import site_url

BASE_DIR = Path(__file__).resolve().parent.parent
env = Env()

RAPPORT_ENV = env.choice("RAPPORT_ENV", "development", ("development", "test", "production"))
PRODUCTION = RAPPORT_ENV == "production"

VAR_DIR = Path(env.str("RAPPORT_VAR_DIR", str(BASE_DIR / "var")))

# --- secrets -------------------------------------------------------------------------------
# Development gets a fixed, obviously unsafe key so sessions survive restarts; production must
# bring its own and is stopped from starting with this one or with anything short.
DEVELOPMENT_SECRET_KEY = "rapport-development-only-key-never-use-in-production"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", "" if PRODUCTION else DEVELOPMENT_SECRET_KEY)
if PRODUCTION and (not SECRET_KEY or SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 50 characters in production "
        "(for example from `python -c 'import secrets; print(secrets.token_urlsafe(64))'`)."
    )

DEBUG = env.bool("DEBUG", default=RAPPORT_ENV == "development")
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production (unset DEBUG or set DEBUG=0).")

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the site's host names in production.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", [])

# --- applications --------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "csp",
    "auditlog",
    # Domain apps, in the order data may flow (an app imports only from those above it).
    "rapport.core",
    "rapport.accounts",
    "rapport.directory",
    "rapport.booking",
    "rapport.videos",
    "rapport.care.apps.CareConfig",
    "rapport.matching.apps.MatchingConfig",
    "rapport.messaging.apps.MessagingConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Above the session and CSRF middleware: it must see the cookies they add on the way out.
    "rapport.core.middleware.CookieNoStoreMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Outside every view: the zone a page chose for its reader ends with that request.
    "rapport.core.middleware.ReaderTimeZoneMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Below authentication (it reads request.user), above the sign-in and lockout middleware
    # (their responses need its headers too).
    "rapport.core.middleware.SecurityHeadersMiddleware",
    # Below every header-adding middleware, so its sign-out redirects carry the same headers as
    # any page; above everything that acts for the person (audit, MFA, views), so those see a
    # timed-out session as signed out.
    "rapport.accounts.middleware.SessionLifetimeMiddleware",
    # Records who changed what. auditlog's own middleware believes any X-Forwarded-For header,
    # so anyone could write an address of their choosing into the audit log; ours takes the
    # client address by the site's rule (REMOTE_ADDR unless TRUSTED_PROXY_COUNT is set).
    "rapport.core.audit.AuditlogMiddleware",
    # Below messages (it leaves one) and the security headers (its responses need them).
    "rapport.accounts.middleware.MfaRequiredMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # API errors answered outside any handler (unknown path, wrong method) as problem+json.
    "rapport.api.problems.ApiProblemMiddleware",
    # AxesMiddleware last: it turns a lockout signalled by the backend into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# Server-side request timing as a response header (see
# rapport.core.middleware.ServerTimingMiddleware): always on the signed-in pages held to a
# time budget, everywhere with SERVER_TIMING (benchmarks, debugging). First, so it times
# everything below it.
SERVER_TIMING = env.bool("SERVER_TIMING", default=False)
SERVER_TIMING_PATH_PREFIXES = ("/practice/", "/staff/")
MIDDLEWARE.insert(0, "rapport.core.middleware.ServerTimingMiddleware")

ROOT_URLCONF = "rapport.urls"
WSGI_APPLICATION = "rapport.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "rapport" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # "Your practice" and "Staff" in the header (cheap: see the module).
                "rapport.navigation.header_links",
            ],
        },
    },
]

# --- database ------------------------------------------------------------------------------
DEFAULT_SQLITE_PATH = VAR_DIR / "rapport.sqlite3"
DATABASE_URL = env.str("DATABASE_URL", f"sqlite:///{DEFAULT_SQLITE_PATH}")
try:
    _database: dict[str, Any] = dict(dj_database_url.parse(DATABASE_URL))
except ValueError as error:
    raise ImproperlyConfigured(f"DATABASE_URL is not a usable database URL: {error}") from error
# Seconds a connection is kept for the next request of the same worker thread: opening one per
# request costs a PostgreSQL connection (a new server process) or, on SQLite, the start-up
# PRAGMAs. 0 closes it after each request. A health check before reuse replaces a connection
# the server dropped meanwhile, instead of failing the request.
_database["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", 60, minimum=0, maximum=3600)
_database["CONN_HEALTH_CHECKS"] = True
if _database["ENGINE"] not in (
    "django.db.backends.sqlite3",
    "django.db.backends.postgresql",
):
    raise ImproperlyConfigured("DATABASE_URL must be a sqlite:// or postgres:// URL.")

if _database["ENGINE"] == "django.db.backends.sqlite3":
    if _database["NAME"] not in ("", ":memory:"):
        Path(_database["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    _database["OPTIONS"] = {
        # IMMEDIATE takes the write lock when a transaction starts, so two writers queue on the
        # busy timeout instead of failing half-way with "database is locked".
        "transaction_mode": "IMMEDIATE",
        "timeout": env.int("SQLITE_BUSY_TIMEOUT_SECONDS", 20, minimum=1, maximum=600),
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
    }
if _database["ENGINE"] == "django.db.backends.postgresql" and env.bool(
    "DATABASE_PREPARED_STATEMENTS", default=True
):
    # The hand-written reads of the hottest paths (rapport.core.rawsql) let PostgreSQL keep
    # their plans once a connection has run them five times. Django leaves prepared statements
    # off for PgBouncer in transaction mode, whose connections cannot keep one between
    # transactions: behind such a pooler, set DATABASE_PREPARED_STATEMENTS=0.
    _database["OPTIONS"] = {**_database.get("OPTIONS", {}), "prepare_threshold": 5}
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- accounts ------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if RAPPORT_ENV == "test":
    # Argon2 spends a sixth of a second per hash by design, and the suite signs in thousands
    # of times. The tests of hashing itself put Argon2 back (tests/accounts/test_signin.py),
    # and tests/accounts/test_passwords.py proves every other environment hashes with Argon2.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- sign-in: allauth, MFA, lockout (django-axes), session lifetime -----------------------
AUTHENTICATION_BACKENDS = [
    # Axes first, so a locked-out login is refused before a password is even checked.
    "axes.backends.AxesStandaloneBackend",
    # allauth's backend is Django's ModelBackend (permissions included) plus e-mail login with
    # the same timing-attack padding. Django's own ModelBackend is left out: the admin's
    # password-only login form is not used (rapport.accounts.middleware sends it to allauth's
    # sign-in), and with both listed every failed attempt would hash the password twice.
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# allauth's own list of a person's signed-in devices (allauth.usersessions): the server can end
# every other session when a password changes, and a person can see and end their sessions
# (ASVS 5.0 V7.5). Part of allauth, so no new dependency; it brings one table.
INSTALLED_APPS.insert(INSTALLED_APPS.index("allauth.mfa") + 1, "allauth.usersessions")

# Accounts are e-mail addresses; there are no user names.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
# A person proves they own the address before they can sign in: a mistyped address must not
# receive someone else's therapy e-mails.
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
# One address per account, replaced only once the new one is confirmed.
ACCOUNT_CHANGE_EMAIL = True
# Sign-in, sign-up and reset look the same whether or not an address has an account; the
# owner of the address learns the difference by e-mail instead.
ACCOUNT_PREVENT_ENUMERATION = True
# Every sign-in lasts until the browser closes (at most the absolute lifetime below): no
# "remember me" on shared or family computers.
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Rapport] "
# Links in e-mails (verification, reset) must be https:// where the site is.
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if PRODUCTION else "http"
# State changes only by POST with a CSRF token: a link or an <img> elsewhere cannot sign
# anyone out or confirm an address.
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
# A password change keeps the session that made it (the person just proved the old password
# there) and ends every other session on the server (rapport.accounts.signals), so a thief's
# session dies with the old password.
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# Confirming an address or resetting a password never signs anyone in by itself: every
# sign-in goes through the password and, where set up, the second factor.
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
# Tell the person by e-mail when their password, address or second factor changes.
ACCOUNT_EMAIL_NOTIFICATIONS = True
# allauth's rate limits stay at their defaults (on): login 30/min per address, failed logins
# 10/min per IP and 5 per 5 min per e-mail, password reset 20/min per IP and 5/min per e-mail,
# sign-up 20/min per IP, and 5 wrong second-factor codes per 5 min per account.
ACCOUNT_ADAPTER = "rapport.accounts.signin.AccountAdapter"
ACCOUNT_FORMS = {
    "login": "rapport.accounts.forms.LoginForm",
    "signup": "rapport.accounts.forms.SignupForm",
    "reset_password": "rapport.accounts.forms.ResetPasswordForm",
    "reset_password_from_key": "rapport.accounts.forms.ResetPasswordKeyForm",
    "change_password": "rapport.accounts.forms.ChangePasswordForm",
    "set_password": "rapport.accounts.forms.SetPasswordForm",
    "add_email": "rapport.accounts.forms.AddEmailForm",
    "change_email": "rapport.accounts.forms.ChangeEmailForm",
    "reauthenticate": "rapport.accounts.forms.ReauthenticateForm",
}
# New passwords: AUTH_PASSWORD_VALIDATORS above set the floor (12 characters, not a common
# password); this caps the length with a clear message (ASVS allows capping at 128, and at
# least 64 must be accepted).
PASSWORD_MAX_LENGTH = 128

# Reauthentication (before changing security settings, exporting or deleting data) asks for
# the password or a second-factor code; an e-mailed code would only prove mailbox access.
ACCOUNT_REAUTHENTICATION_METHODS = ("password", "mfa")

# Second factor: an authenticator app (TOTP) plus single-use recovery codes. WebAuthn is off:
# allauth's WebAuthn pages need its own JavaScript with inline script blocks (which the strict
# nonce-based CSP would block unless every template is rewritten) and cannot be exercised
# without a browser holding a virtual authenticator.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Rapport"
# A code typed in the last seconds of its 30-second step may arrive in the next one: accept the
# step before and after as well (RFC 6238, section 5.2, allows one step for delay and clock
# drift). allauth still refuses a code that was used once already.
MFA_TOTP_TOLERANCE = 1
MFA_ADAPTER = "rapport.accounts.signin.MFAAdapter"
# Therapists and staff (and any is_staff/is_superuser account) must have an authenticator
# before any page under these prefixes (rapport.accounts.middleware). The API's private
# endpoints check it in their authentication (rapport.accounts.api.SessionWithSecondFactor),
# so its public endpoints stay public for everyone.
MFA_REQUIRED_PATH_PREFIXES = ("/admin/", "/staff/", "/therapist/", "/practice/")

# Lockout (django-axes): 5 failed passwords for one address from one client address pause
# sign-in for that pair for 15 minutes. allauth's own per-e-mail limit (above) is the brake on a
# guessing attack spread over many client addresses; the price is that a stranger who keeps
# guessing can pause an address's sign-in everywhere for up to 5 minutes at a time. We accept
# that (a delay, never a takeover); a password reset lifts the axes lock.
AXES_FAILURE_LIMIT = 5
LOCKOUT_COOL_OFF_MINUTES = 15
AXES_COOLOFF_TIME = LOCKOUT_COOL_OFF_MINUTES / 60  # axes counts in hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# allauth's login form calls the address field "login"; the callable reads it (or the e-mail
# allauth passes to authenticate()) and normalises it, so "Ann@Example.org" and
# "ann@example.org" count as one account.
AXES_USERNAME_FORM_FIELD = "login"
AXES_USERNAME_CALLABLE = "rapport.accounts.signin.lockout_username"
AXES_CLIENT_IP_CALLABLE = "rapport.accounts.signin.client_ip_address"
AXES_RESET_ON_SUCCESS = True
# Attempts while locked out do not extend the pause: the wait shown is the wait there is.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "rapport.accounts.signin.lockout_response"
AXES_LOCKOUT_TEMPLATE = "axes/lockout.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_COOLOFF_MESSAGE = (
    f"Too many failed sign-in attempts. Please wait {LOCKOUT_COOL_OFF_MINUTES} minutes "
    "before trying again."
)
# The posted address is personal data: keep it out of axes' copies of the request.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "login", "email"]

# Which client address counts (for lockout, rate limits, the session list and the audit log):
# REMOTE_ADDR, unless the operator declares how many proxies of theirs stand in front of the
# site, in which case it is the X-Forwarded-For entry the outermost of them added. With the
# default of 0 the header is ignored, so a client cannot dodge a lockout by inventing it.
# (axes 8.3 reads AXES_IPWARE_PROXY_COUNT / AXES_IPWARE_META_PRECEDENCE_ORDER only when
# django-ipware is installed, which it is not; AXES_CLIENT_IP_CALLABLE applies this rule.)
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", 0, minimum=0, maximum=10)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT

# Session lifetime (rapport.accounts.middleware.SessionLifetimeMiddleware): signed out after
# 30 minutes without a request, and 12 hours after signing in whatever happens.
SESSION_IDLE_TIMEOUT_SECONDS = env.int(
    "SESSION_IDLE_TIMEOUT_SECONDS", 30 * 60, minimum=60, maximum=12 * 60 * 60
)
SESSION_ABSOLUTE_LIFETIME_SECONDS = env.int(
    "SESSION_ABSOLUTE_LIFETIME_SECONDS", 12 * 60 * 60, minimum=5 * 60, maximum=7 * 24 * 60 * 60
)
if SESSION_IDLE_TIMEOUT_SECONDS > SESSION_ABSOLUTE_LIFETIME_SECONDS:
    raise ImproperlyConfigured(
        "SESSION_IDLE_TIMEOUT_SECONDS must not exceed SESSION_ABSOLUTE_LIFETIME_SECONDS."
    )
# The server forgets a session at the latest when its absolute lifetime could have run out,
# and the cookie goes when the browser closes.
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_LIFETIME_SECONDS
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# --- security headers: CSP and friends ----------------------------------------------------
# Every resource comes from this origin: no CDN, font service, analytics or other third party
# ever sees that a person is looking for a therapist. Scripts and styles also need the
# per-response nonce (templates write nonce="{{ request.csp_nonce }}"), so an injected <script>
# or <style> does not run even though it would be "same-origin"; no 'unsafe-inline', no
# 'unsafe-eval' anywhere (htmx is told not to use eval: see base.html). Django 5.2's admin runs
# under this policy unchanged (it has no inline script; tests/browser opens every admin list
# and the richest forms in Chromium). One admin template does carry an inline <style>, which
# the policy blocks: the change list of a ModelAdmin with actions_on_top and actions_on_bottom
# both off. Leave one on (the default), or that list loses a column-width rule.
CONTENT_SECURITY_POLICY: dict[str, dict[str, Any]] = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        # data: for the TOTP set-up QR code, which allauth inlines as a data: URI image.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "media-src": [SELF],
        "object-src": [NONE],
        # Nothing may re-point relative URLs, so no <base> tag at all.
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        # Development and tests run over plain http://127.0.0.1, which this would break.
        "upgrade-insecure-requests": PRODUCTION,
    },
}
# Headers Django has no setting for, sent by rapport.core.middleware.SecurityHeadersMiddleware.
SECURE_CROSS_ORIGIN_RESOURCE_POLICY = "same-origin"
# Powerful features are off for this page and any frame in it; geolocation stays available to
# our own pages only, for "therapists near me" in the directory. Only features Chromium knows
# (it warns on every page about any other; tests/browser fails on such a warning).
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "camera": [],
    "microphone": [],
    "geolocation": ["self"],
    "display-capture": [],
    "payment": [],
    "usb": [],
    "serial": [],
    "hid": [],
    "midi": [],
    "accelerometer": [],
    "gyroscope": [],
    "magnetometer": [],
    # Chromium's interest-based advertising API: no tracking from our pages.
    "browsing-topics": [],
}
# Static files are answered by WhiteNoise before that middleware runs. Nothing of ours is meant
# to be read by another site's scripts either, so no CORS "Access-Control-Allow-Origin: *".
WHITENOISE_ADD_HEADERS_FUNCTION = add_static_file_headers
WHITENOISE_ALLOW_ALL_ORIGINS = False

# --- health data protection: field encryption and the audit log ---------------------------
# Keys that encrypt health data at rest (rapport.core.crypto), newest first, from
# FIELD_ENCRYPTION_KEYS or FIELD_ENCRYPTION_KEYS_FILE. Production must bring its own; development
# and tests use a fixed, published key so their databases stay readable across restarts.
# Rotation: put a new key first and restart, run `rapport rotate_encryption_keys`, and drop the
# old key once `rapport rotate_encryption_keys --check` finds nothing left under it.
FIELD_ENCRYPTION_KEYS = field_encryption_keys_from_env(env, production=PRODUCTION)
# Health models are registered one by one (rapport.core.audit.register_health_model) with their
# encrypted fields masked; logging every model would copy personal data into the log.
AUDITLOG_INCLUDE_ALL_MODELS = False
# A client-chosen correlation id would let anyone tag audit entries; we do not read one.
AUDITLOG_CID_HEADER = None
# Error reports (mail to ADMINS, the debug page) leave out local variables and form values,
# where health data would otherwise travel.
DEFAULT_EXCEPTION_REPORTER_FILTER = "rapport.core.audit.HealthDataExceptionReporterFilter"
if RAPPORT_ENV == "test":
    # Models used only by the health-data tests (an encrypted private note); never installed
    # in development or production, so they never get a table there.
    INSTALLED_APPS += ["tests.healthdata_app"]

# --- privacy and verification --------------------------------------------------------------
# The version of each document a person agrees to; bumping one asks everyone again.
CONSENT_VERSIONS = {"terms": "2026-11", "privacy": "2026-11", "share": "2026-11"}
ACCOUNT_DELETION_GRACE_DAYS = env.int("ACCOUNT_DELETION_GRACE_DAYS", 14, minimum=0, maximum=90)
# Sign-ups whose e-mail address was never confirmed are removed after this many days.
UNVERIFIED_ACCOUNT_RETENTION_DAYS = env.int(
    "UNVERIFIED_ACCOUNT_RETENTION_DAYS", 30, minimum=1, maximum=365
)
# Records of login attempts (for lockout and review) are kept this long.
LOGIN_ATTEMPT_RETENTION_DAYS = env.int("LOGIN_ATTEMPT_RETENTION_DAYS", 90, minimum=1)

# --- cache -----------------------------------------------------------------------------------
# Rate limits and used one-time codes live in the cache, so every app server must see the same
# one: production uses a table in the shared database (`rapport createcachetable` creates it).
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "rapport_cache"}
        if PRODUCTION
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- localisation --------------------------------------------------------------------------
LANGUAGE_CODE = "en-ca"
TIME_ZONE = "UTC"  # stored times are UTC; pages convert to the viewer's zone
USE_I18N = True
USE_TZ = True

# --- static and media files ----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
if not PRODUCTION:
    # WhiteNoise warns on every request when the folder is missing; production creates it
    # with `rapport collectstatic`.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- e-mail --------------------------------------------------------------------------------
# Links in e-mails sent by the task worker (booking, reminders) start with this address: a
# worker has no request to take the host name from. Outside production it defaults to the
# demo's port (RAPPORT_PORT, set by `make demo PORT=…`), so e-mailed links follow the server.
SITE_URL = site_url(env, production=PRODUCTION)
if PRODUCTION and not SITE_URL.startswith("https://"):
    raise ImproperlyConfigured("SITE_URL must be the site's https:// address in production.")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "Rapport <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
# Where rapport.core.mail.MessageFileBackend (the demo's choice) writes one .eml per message.
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = env.str("EMAIL_HOST", "localhost")
EMAIL_PORT = env.int("EMAIL_PORT", 587, minimum=1, maximum=65535)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=PRODUCTION)

# --- background tasks ----------------------------------------------------------------------
# The worker (`rapport db_worker`) takes tasks from the shared database, so any number of app
# servers can enqueue without a separate broker. Tests run tasks immediately.
TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks.backends.immediate.ImmediateBackend"
            if RAPPORT_ENV == "test"
            else "django_tasks_db.DatabaseBackend"
        )
    }
}

# --- security ------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    # Trust X-Forwarded-Proto only when the operator says a TLS-terminating proxy sets it.
    if env.bool("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- logging -------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {
        "handlers": ["console"],
        "level": env.choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")),
    },
    "loggers": {
        # Django's own default handler would print its messages a second time.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
    },
}

# --- product -------------------------------------------------------------------------------
DIRECTORY_PAGE_SIZE = env.int("DIRECTORY_PAGE_SIZE", 20, minimum=1, maximum=100)
# A listing whose "accepting new clients" was not re-confirmed within this many days is hidden.
LISTING_FRESHNESS_DAYS = env.int("LISTING_FRESHNESS_DAYS", 30, minimum=1, maximum=365)
# The highest fee per session a listing may show, in cents (rapport.directory.rules.check_fees):
# above it, a fee is almost always a typing slip. 100000 = 1,000.00.
THERAPIST_FEE_CAP_MINOR = env.int(
    "THERAPIST_FEE_CAP_MINOR", 100_000, minimum=100, maximum=10_000_000
)
# How stale each process's copy of "next free consultation" per therapist may get before the
# search re-reads it (see rapport.directory.search.engine.ConsultationTimes).
SEARCH_CONSULTATION_TIMES_MAX_AGE_SECONDS = env.int(
    "SEARCH_CONSULTATION_TIMES_MAX_AGE_SECONDS", 60, minimum=0, maximum=3600
)
# How long each process trusts its last read of the search index's version stamp before
# reading it again (a database round trip, or two with the connection's health check, that
# was a fifth of a new search's time on PostgreSQL). A change made through a process shows in
# that process's next search at once; in the others' within this long. The tests read it
# before every search, as they always did.
SEARCH_INDEX_VERSION_MAX_AGE_MS = env.int(
    "SEARCH_INDEX_VERSION_MAX_AGE_MS",
    0 if RAPPORT_ENV == "test" else 1000,
    minimum=0,
    maximum=60_000,
)

# --- booking -------------------------------------------------------------------------------
# A consultation request the therapist has not answered in this many hours is declined for
# them, and the client is offered similar therapists.
BOOKING_REQUEST_EXPIRY_HOURS = env.int("BOOKING_REQUEST_EXPIRY_HOURS", 48, minimum=1, maximum=336)
# Days before a listing pauses (LISTING_FRESHNESS_DAYS) that the therapist is warned by e-mail.
LISTING_WARNING_DAYS_BEFORE = env.int("LISTING_WARNING_DAYS_BEFORE", 3, minimum=1, maximum=14)

# --- care ----------------------------------------------------------------------------------
# Which loaded instrument (its slug; the newest version loaded) is asked for each purpose. A
# clinic that loads its own definitions names them here; the built-ins are the defaults.
CARE_INSTRUMENTS = {
    "fit": env.str("CARE_FIT_INSTRUMENT", "fit-check"),
    "alliance": env.str("CARE_ALLIANCE_INSTRUMENT", "alliance-check-in"),
    "progress": env.str("CARE_PROGRESS_INSTRUMENT", "progress-check"),
}
# An unanswered check-in request closes after this many days (a newer one may replace it).
CARE_CHECK_IN_DAYS = env.int("CARE_CHECK_IN_DAYS", 7, minimum=1, maximum=30)

# --- video introductions -------------------------------------------------------------------
# Uploads arrive in chunks into VIDEO_UPLOAD_DIR (local disk, shared by the app servers and the
# worker: the probe and the transcoder read local files), are probed in a resource-limited
# subprocess, then kept in the "videos" storage (local files or S3-compatible) under random
# names, outside the static folders.
VIDEO_MAX_UPLOAD_BYTES = env.int("VIDEO_MAX_UPLOAD_MB", 500, minimum=1, maximum=10_000) * 2**20
VIDEO_MAX_DURATION_SECONDS = env.int("VIDEO_MAX_DURATION_SECONDS", 180, minimum=5, maximum=3600)
# Frame-size cap for either orientation: the long side and the short side.
VIDEO_MAX_LONG_SIDE = env.int("VIDEO_MAX_LONG_SIDE", 3840, minimum=320, maximum=8192)
VIDEO_MAX_SHORT_SIDE = env.int("VIDEO_MAX_SHORT_SIDE", 2160, minimum=240, maximum=8192)
# Limits of the probe and transcode subprocesses: wall clock, CPU seconds, address space.
VIDEO_PROBE_TIMEOUT_SECONDS = env.int("VIDEO_PROBE_TIMEOUT_SECONDS", 30, minimum=1, maximum=600)
VIDEO_TRANSCODE_TIMEOUT_SECONDS = env.int(
    "VIDEO_TRANSCODE_TIMEOUT_SECONDS", 1200, minimum=10, maximum=7200
)
# PyAV and the encoder need about 700 MB of address space for the worst accepted source.
VIDEO_SUBPROCESS_MEMORY_MB = env.int("VIDEO_SUBPROCESS_MEMORY_MB", 2048, minimum=1024)
# Keep the therapist's original file after a successful transcode (off: it is deleted).
VIDEO_KEEP_ORIGINALS = env.bool("VIDEO_KEEP_ORIGINALS", default=False)
VIDEO_UPLOAD_DIR = Path(env.str("VIDEO_UPLOAD_DIR", str(VAR_DIR / "uploads")))
# Unfinished uploads older than this are removed by `rapport housekeeping`.
VIDEO_UPLOAD_ABANDON_HOURS = env.int("VIDEO_UPLOAD_ABANDON_HOURS", 24, minimum=1, maximum=720)
# How playback is served: "django" (a view with Range support), "x-accel" (the front web
# server sends the file: an internal location at VIDEO_X_ACCEL_PREFIX maps to VIDEO_MEDIA_ROOT),
# or, with VIDEO_STORAGE=s3, a short-lived signed URL the object store serves with Range.
VIDEO_STORAGE = env.choice("VIDEO_STORAGE", "local", ("local", "s3"))
VIDEO_SERVE = env.choice("VIDEO_SERVE", "django", ("django", "x-accel"))
VIDEO_X_ACCEL_PREFIX = env.str("VIDEO_X_ACCEL_PREFIX", "/protected-videos/")
VIDEO_MEDIA_ROOT = Path(env.str("VIDEO_MEDIA_ROOT", str(VAR_DIR / "videos")))
VIDEO_SIGNED_URL_SECONDS = env.int("VIDEO_SIGNED_URL_SECONDS", 300, minimum=30, maximum=86400)
if VIDEO_STORAGE == "s3":
    STORAGES["videos"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("VIDEO_S3_BUCKET"),
            "endpoint_url": env.str("VIDEO_S3_ENDPOINT_URL", "") or None,
            "region_name": env.str("VIDEO_S3_REGION", "") or None,
            "access_key": env.str("VIDEO_S3_ACCESS_KEY_ID", "") or None,
            "secret_key": env.str("VIDEO_S3_SECRET_ACCESS_KEY", "") or None,
            # Private objects, reachable only through short-lived signed URLs.
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": VIDEO_SIGNED_URL_SECONDS,
            # Version 4 signatures: the only kind newer regions and most S3-compatible stores
            # accept.
            "signature_version": "s3v4",
            "file_overwrite": False,
        },
    }
    # Playback is redirected to signed URLs on the object store, which the page's policy must
    # allow as a media (and poster image) source: without it every player stays black.
    _video_origin = env.str("VIDEO_S3_MEDIA_ORIGIN", env.str("VIDEO_S3_ENDPOINT_URL", ""))
    if not _video_origin:
        raise ImproperlyConfigured(
            "With VIDEO_STORAGE=s3, set VIDEO_S3_MEDIA_ORIGIN (the https:// origin signed "
            "video URLs point at) or VIDEO_S3_ENDPOINT_URL."
        )
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["media-src"].append(_video_origin)
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"].append(_video_origin)
else:
    STORAGES["videos"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # No base_url: nothing under this folder is reachable except through the video views.
        "OPTIONS": {"location": str(VIDEO_MEDIA_ROOT), "base_url": None},
    }

# --- messaging attachments -----------------------------------------------------------------
# Off by default: messages are for logistics. A deployer who turns them on accepts the kinds
# listed (decided by the file's bytes, never its name), each up to the size cap, a few a
# message. Files are kept in the videos' private storage under random names.
MESSAGING_ATTACHMENTS = env.bool("MESSAGING_ATTACHMENTS", default=False)
MESSAGING_ATTACHMENT_KINDS = tuple(env.list("MESSAGING_ATTACHMENT_KINDS", ["pdf", "png", "jpeg"]))
if not set(MESSAGING_ATTACHMENT_KINDS) <= {"pdf", "png", "jpeg", "webp"}:
    raise ImproperlyConfigured(
        "MESSAGING_ATTACHMENT_KINDS lists kinds among pdf, png, jpeg and webp, "
        f"got {','.join(MESSAGING_ATTACHMENT_KINDS)}."
    )
MESSAGING_ATTACHMENT_MAX_BYTES = (
    env.int("MESSAGING_ATTACHMENT_MAX_MB", 5, minimum=1, maximum=25) * 2**20
)
MESSAGING_ATTACHMENTS_PER_MESSAGE = env.int(
    "MESSAGING_ATTACHMENTS_PER_MESSAGE", 3, minimum=1, maximum=10
)
