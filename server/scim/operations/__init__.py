"""The SCIM operations on Users and Groups (RFC 7644 §3.3-§3.6), one function each,
framework-free: a ``ScimRequest`` in (practice id, path parameters, headers, query, body), a
``ScimAnswer`` out (status, headers, body).

Each operation owns the whole exchange: the credential check, the preconditions
(``If-Match``, ``If-None-Match``), ``Prefer``, attribute selection, the response body and the
error body of every failure. The Litestar handlers (``server.scim.users``,
``server.scim.groups``) and the edge's fast routes (``server.scim.fast_routes``) only carry
requests to them and answers back.
"""
