"""pycoupa: a Coupa emulator, SDK and unified API server."""

__version__ = "0.1.0"
