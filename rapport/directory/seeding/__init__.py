"""Deterministic, realistic demo and load-test data for the directory (`rapport seed`)."""
