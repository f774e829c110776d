"""The command line: the typer app, the terminal walks and the finding renderers."""

from triangulate.cli.commands import app, main

__all__ = ["app", "main"]
