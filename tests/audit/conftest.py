from tests.security.conftest import account  # noqa: F401  (the "anquan" staff account)
