"""Signals: pure functions that score an outcome (similarity, reward, validity) and redact secrets."""
