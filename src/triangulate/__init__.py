"""triangulate: reproducible triangulation of mixed-methods data sources, theme by theme."""

__version__ = "0.1.0"
