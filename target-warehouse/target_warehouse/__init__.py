"""target-warehouse: a fast, exact and safe Postgres loader for Singer streams."""
