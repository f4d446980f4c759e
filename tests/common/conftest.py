"""The welfare fixtures (funds, cases with evidence, a media folder of the test's own), for the
backup tests that need records and files to restore."""

from ..welfare.conftest import funds, make_case, media_root  # noqa: F401  (fixtures)
