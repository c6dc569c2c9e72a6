"""The SQLite engine: pooled connections, the one inline reader, the event loop's writer,
and the per-turn and per-commit helpers of the hot reads."""
