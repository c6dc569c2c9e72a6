"""The SCIM 2.0 HTTP edge (RFC 7644): routes, request parsing, responses and errors."""
