"""Load data for benchmarks and load runs (issue 8): `manage.py generate_load_data`."""
