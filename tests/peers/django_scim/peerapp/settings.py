"""A throwaway Django project serving django-scim2 (PyPI) as a SCIM peer for scimlab's tests.

Its database is the SQLite file ``PEER_DATABASE`` names; its one credential is the static
bearer token ``PEER_TOKEN``. Nothing here is for production.
"""

from __future__ import annotations

import os

SECRET_KEY = os.environ.get("PEER_SECRET_KEY", "throwaway-key-for-a-test-peer-only-0123456789")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django_scim",
    "peerapp",
]
MIDDLEWARE = [
    "peerapp.auth.BearerToken",
    "django_scim.middleware.SCIMAuthCheckMiddleware",
]
ROOT_URLCONF = "peerapp.urls"
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["PEER_DATABASE"]}
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
AUTH_USER_MODEL = "peerapp.User"
SCIM_SERVICE_PROVIDER = {
    "NETLOC": "127.0.0.1",
    "SCHEME": "http",
    "GROUP_MODEL": "peerapp.models.Group",
    "AUTHENTICATION_SCHEMES": [
        {
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "A static bearer token",
        }
    ],
}
