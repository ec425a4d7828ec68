"""pycoupa's Coupa SDK: ``Coupa`` and ``AsyncCoupa`` over httpx, from one implementation."""

from pycoupa.client.async_ import AsyncCoupa
from pycoupa.client.sync import Coupa

__all__ = ["AsyncCoupa", "Coupa"]
