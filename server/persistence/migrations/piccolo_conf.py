"""piccolo's configuration module, used only by the migration runner.

piccolo's migration machinery finds its engine through this module's ``DB``; the runner in
``server.persistence.migrate`` points ``DB`` at the engine it is migrating, so nothing else in
scimlab depends on a global engine.
"""

from typing import Any

from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine
from piccolo.engine.sqlite import SQLiteEngine

DB: Engine[Any] = SQLiteEngine(path="scimlab.db")

APP_REGISTRY = AppRegistry(apps=["server.persistence.migrations.piccolo_app"])
