"""A local Coupa instance for integration tests: ``Emulator`` (ASGI app), ``serve_in_thread``."""

from pycoupa.emulator.app import Emulator

__all__ = ["Emulator"]
