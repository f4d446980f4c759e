"""Spreadsheet imports into the welfare records.  ``autodiscover_modules("imports")`` imports
this package, which registers its schemas with the engine."""

from . import support  # noqa: F401  (registers the past-support schema)
