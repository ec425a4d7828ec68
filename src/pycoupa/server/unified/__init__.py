"""Unified Accounting and User Directory models over Coupa: specs, mappers and the list engine."""
