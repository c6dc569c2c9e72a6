"""The reliability suite (fuzzing, crash safety, database faults, concurrency, isolation,
secrets, several processes, operations). Every module carries the ``reliability`` marker and
runs by default in a bounded form; ``SCIMLAB_RELIABILITY_SCALE=full`` runs the full sizes
(5,000 users, more generated requests, longer load)."""
