"""Renderers: every output is written from one :class:`triangulate.analysis.Analysis`."""
