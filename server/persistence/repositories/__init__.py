"""The repositories: one module per aggregate, each a piccolo implementation of a
``server.domain.ports`` protocol."""
