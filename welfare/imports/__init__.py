"""Spreadsheet imports into the welfare records.  ``autodiscover_modules("imports")`` imports
this package, which registers its schemas with the engine."""

from welfare.campaigns import imports as campaigns  # noqa: F401  (the contributions' schema)
from welfare.programs import imports as batches  # noqa: F401  (a batch's people)

from . import support  # noqa: F401  (registers the past-support schema)
