"""The provisioning activity log: every SCIM request that reached a practice, as the
practice's administrators read it (console, management API, ``scimlab scim activity``).
Wired by ``ActivityPlugin`` (:mod:`server.activity.plugin`) in ``create_app``."""
