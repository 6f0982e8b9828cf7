"""Tests of ingest.metadata, one module per field (a package: ``from .pages import ...``)."""
