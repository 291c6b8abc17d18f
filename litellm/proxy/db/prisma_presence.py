"""Whether the optional ``prisma`` database client is installed.

The proxy runs without a database (a master key, no virtual keys), and ``prisma`` comes only with
the ``extra_proxy`` extra. The predicates that classify an exception as a database failure import
``prisma`` on the way, so without it a request with a missing or malformed key, which should get
a 401, crashed with a 500 (``ModuleNotFoundError``). Without the client there is no database, so
no exception is a database failure.
"""

from __future__ import annotations

import importlib.util


def prisma_installed() -> bool:
    try:
        return importlib.util.find_spec("prisma") is not None
    except ValueError:  # imported already, without a module spec: it is there
        return True
