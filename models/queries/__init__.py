"""Read queries: each takes a connection and keyword filters and returns a polars DataFrame."""
