"""Plugins that fail to load, on purpose."""
