"""Coupa's business rules, on top of the generic handlers: state machines, computed fields,
the exported queue. Importing this package registers them."""

from pycoupa.emulator.behaviours import accounts, approvals, directory, invoices, payments, purchasing  # noqa: F401  (registration)
