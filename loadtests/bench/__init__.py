"""``scimlab bench``: the server against a bare Litestar endpoint and scim2-server, in one run."""
