"""Bridges between cnncalc specs and other frameworks' model files."""
