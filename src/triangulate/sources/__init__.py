"""One reader per source format, all producing the row model of :mod:`triangulate.sources.rows`."""
