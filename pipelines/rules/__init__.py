"""Coding rules as data files (loaded with importlib.resources)."""
