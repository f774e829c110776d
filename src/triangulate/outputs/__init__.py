"""Renderers: every output is written from one :class:`triangulate.protocol.analysis.Analysis`."""
