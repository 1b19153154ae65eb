from __future__ import annotations

import pytest

from tests.einvoice.validate import Schematron


@pytest.fixture(scope="session")
def schematron() -> Schematron:
    return Schematron()
