"""Shared test set-up. Personas live in tests/personas.py."""

import pytest

pytest_plugins = ["tests.personas", "tests.sms_gateway"]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    # The browser tests last (after pytest-django's own ordering, hence trylast): their
    # live server is a thread that lives to the end of the session, and a fork is unsafe
    # while another thread may hold a lock (Python warns "multi-threaded, use of
    # fork()"). No test forks now (the load generator's run their workers in threads,
    # tests/perf/in_process.py: a pytest-xdist worker has threads of its own anyway);
    # the order is kept for whatever test comes to need it. The sort is stable.
    items.sort(key=lambda item: item.nodeid.startswith("tests/browser/"))


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Argon2 is the production hasher (settings.py); hashing the demo accounts for
    # every test would cost seconds, and no test is about the hash's strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _private_media_root(settings, tmp_path_factory):
    # Uploads (photos, attachments) go to a fresh folder per test, never into data/.
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # Rate limits (django-ratelimit) count in the cache, which outlives a test: every test
    # starts at zero, so that limits hit in one test never leak into another. Only the
    # in-process cache is cleared, never a Redis that REDIS_URL might point at.
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    cache = caches["default"]
    local = isinstance(cache, LocMemCache)
    if local:
        cache.clear()
    yield
    if local:
        cache.clear()


@pytest.fixture(autouse=True)
def _fresh_first_year():
    # The filters' first year is kept by the process for five minutes
    # (minyi.cases.forms._first_year); each test has cases of its own.
    from minyi.cases import forms

    forms._first_year_seen = (float("-inf"), 0)


@pytest.fixture(autouse=True)
def _requests_commit_their_generation_bumps():
    # A request's writes commit when it ends, and then their generation bumps run
    # (minyi.core.generations); until then the request reads around the shared cache. A
    # test's transaction never commits, so a test client's request or login would leave
    # the cache unused for the rest of the test. Only the bumps run, no other hook.
    from django.contrib.auth.signals import user_logged_in
    from django.core.signals import request_finished

    from tests.personas import bump_as_if_committed

    def bump(**kwargs):
        bump_as_if_committed()

    signals = (request_finished, user_logged_in)
    for signal in signals:
        signal.connect(bump, dispatch_uid="tests-generation-bumps")
    yield
    for signal in signals:
        signal.disconnect(dispatch_uid="tests-generation-bumps")


@pytest.fixture(autouse=True, scope="session")
def _audit_trail_lets_the_test_flush_through():
    # The audit table refuses DELETE (minyi/audit/db.py). Between transactional tests Django
    # empties every table; on SQLite that is a DELETE, which the trigger lets through only
    # inside allow_flush(). (PostgreSQL empties with TRUNCATE, which row triggers do not see.)
    from django.db import connection

    from minyi.audit.db import allow_flush

    if connection.vendor != "sqlite":
        yield
        return
    from django.db.backends.sqlite3.base import DatabaseOperations

    original = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        with allow_flush():
            return original(self, sql_list)

    DatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    DatabaseOperations.execute_sql_flush = original
