"""Deterministic, realistic demo and load-test data for the directory (`rapport seed`).

``vocabulary`` holds the words, ``generate`` turns (seed, index) into one therapist in memory,
and ``demo`` writes them to the database (and deletes them again).
"""
