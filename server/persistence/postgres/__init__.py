"""PostgreSQL: connections held between the hot statements, and transactions on them."""
