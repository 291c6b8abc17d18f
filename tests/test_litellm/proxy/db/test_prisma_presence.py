"""Unit tests for litellm/proxy/db/prisma_presence.py and the auth error path without the prisma client."""

from __future__ import annotations

import importlib.util
import sys
import types

import pytest

from litellm.proxy.db.exception_handler import PrismaDBExceptionHandler
from litellm.proxy.db.prisma_presence import prisma_installed

PRISMA_ABSENT = importlib.util.find_spec("prisma") is None


@pytest.mark.skipif(not PRISMA_ABSENT, reason="the prisma client is installed here")
def test_without_prisma_nothing_is_a_database_outage() -> None:
    assert prisma_installed() is False
    for error in (Exception("No api key passed in."), ValueError("malformed"), OSError("refused")):
        assert PrismaDBExceptionHandler.is_database_service_unavailable_error(error) is False
        assert PrismaDBExceptionHandler.is_database_service_unavailable_error_in_chain(error) is False


def test_a_prisma_module_already_imported_counts_as_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("prisma")
    monkeypatch.setitem(sys.modules, "prisma", module)
    assert prisma_installed() is True
    module.__spec__ = None
    assert prisma_installed() is True
