"""Entry point for uvicorn workers: ``uvicorn --factory pycoupa.server.asgi:create``.

Each worker process builds its own app from the ``PYCOUPA_*`` environment (``pycoupa serve``
exports its flags there before starting several workers).
"""

from __future__ import annotations

from fastapi import FastAPI

from pycoupa.server.app import create_app
from pycoupa.server.settings import ServerSettings


def create() -> FastAPI:
    return create_app(ServerSettings.load())
