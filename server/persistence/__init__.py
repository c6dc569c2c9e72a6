"""Where the server's data lives: the only package that imports piccolo or a database driver.

- ``store.py``: ``PiccoloStore``, the ``server.domain.ports.Store`` the services use, opened
  from ``SCIMLAB_DATABASE_URL`` (``engine.py``) with its migrations applied (``migrate.py``).
- ``repositories/``: one module per aggregate (staff, groups, practices and tokens, sign-in,
  SAML, MFA, team, locations and sessions, deployment settings); rows become domain records
  explicitly (``rows.py``) and filters become SQL (``sql_filters.py``).
- ``fixed_statements.py``: the hot statements, run on the driver in either dialect.
- ``sqlite/``: the SQLite engine: pooled connections, the one inline reader, the event
  loop's writer, reads by id gathered per turn, answers kept while nothing is committed.
- ``postgres/``: connections kept between statements (``kept_connections.py``) and
  transactions on them.
- ``migrations/``: piccolo migrations of the ``scimlab`` app.
- ``fallbacks.py``: every fast path that gives up is counted on ``/metrics``.
"""
