"""``pytest conformance --scim-url ...`` runs the suites; see ``conformance.pytest_plugin``."""

from conformance.pytest_plugin import (  # noqa: F401 - pytest finds hooks by name
    pytest_addoption,
    pytest_collect_file,
    pytest_configure,
    pytest_sessionfinish,
)
