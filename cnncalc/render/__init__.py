"""Renderers: turn a `Report` into text. They format; they never compute."""
