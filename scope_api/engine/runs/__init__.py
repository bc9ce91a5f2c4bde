"""Golden-set runs in the background of the server process.

``worker.RunWorker`` claims cells of active runs with leases (``store``), executes
them under per-run and per-provider concurrency limits that adapt to 429s
(``limiter``), scores the answers and records each cell as it completes
(``cell``). Every replica runs a worker; the database decides who does what.
"""
