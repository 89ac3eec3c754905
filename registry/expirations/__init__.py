"""Expirations: what lapses soon, for the API, the dashboard, the export and the alert jobs."""

from registry.expirations.service import expiring_within

__all__ = ["expiring_within"]
