"""Fixtures of the in-process app tests: the Chalice app on fake stores."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from chalice.test import Client

from app import app
from chalicelib.stores.services import use_services
from tests.support.fakes import Fakes, fake_services


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    """Every store an in-memory fake, served by ``get_services()`` for the test."""
    found = fake_services()
    use_services(found.services)
    yield found
    use_services(None)


@pytest.fixture
def client() -> Iterator[Client]:
    """Chalice's in-process test client of the app."""
    with Client(app) as c:
        yield c
