"""Adapters: the concrete stores and integrations behind orderflow's ports."""
