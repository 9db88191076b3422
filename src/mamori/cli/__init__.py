"""The `mamori` command line."""
