"""Loaded as a pytest plugin (`-p tests.environment`) so it runs before Django reads settings."""

import os

# Tasks run immediately and nothing insecure-by-default leaks in from the developer's shell.
os.environ["RAPPORT_ENV"] = "test"
os.environ.pop("DEBUG", None)
