"""Capture: documents, tracked regions moving through edits, and their outcomes."""
