"""Shared test set-up. Personas live in tests/personas.py."""

pytest_plugins = ["tests.personas"]
