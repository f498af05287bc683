"""Editloop: capture how developers fix AI output, and turn the fixes into a better model."""

__version__ = "0.1.0"
