"""No national ID number in a log record or an error report (common/logs.py).  The whole
suite's log output is watched for them too (tests/conftest.py)."""

from __future__ import annotations

import logging
import sys

from django.test import RequestFactory
from django.views.debug import ExceptionReporter

from common.logs import HIDDEN, PersonalDataReporterFilter

NUMBER = "001190012345"


def test_a_national_id_in_a_message_its_arguments_or_a_traceback_is_hidden(caplog):
    logger = logging.getLogger("tests.personal")
    with caplog.at_level(logging.INFO, logger="tests.personal"):
        logger.info("member %s opened", NUMBER)
        logger.warning(f"imported {NUMBER} twice")
        try:
            raise ValueError(f"Key (national_id)=({NUMBER}) already exists.")
        except ValueError:
            logger.exception("import failed for %s", "row 3")
    text = caplog.text
    assert NUMBER not in text
    assert text.count(HIDDEN) == 3  # the message, the f-string, the exception
    assert "import failed for row 3" in text and "ValueError" in text
    # a longer or shorter run of digits is left alone (amounts, phone numbers)
    with caplog.at_level(logging.INFO, logger="tests.personal"):
        logger.info("paid %s to %s", "1234567890123", "0912345678")
    assert "1234567890123" in caplog.text and "0912345678" in caplog.text


def test_the_error_report_leaves_out_ids_and_circumstances(settings):
    settings.DEBUG = False
    request = RequestFactory().post(
        "/members/new/",
        {"full_name": "Nguyễn Văn An", "national_id": NUMBER, "circumstances": "Ung thư"},
    )
    member_id = NUMBER  # noqa: F841  (a local variable the traceback shows)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        reporter = ExceptionReporter(request, *sys.exc_info())
        reporter.filter = PersonalDataReporterFilter()
        text = reporter.get_traceback_text()
        page = reporter.get_traceback_html()  # what an e-mail with include_html attaches
    for report in (text, page):
        assert NUMBER not in report and "Ung thư" not in report
        assert "Nguyễn Văn An" in report  # the rest of the form is still there to debug with
    assert HIDDEN in page  # the local variable, its number hidden
