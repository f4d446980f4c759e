"""Log records and error reports never carry a national ID number (Personal Data Protection
Law): a 12-digit run in a record's message or traceback is replaced before any handler sees
it, whoever logs it (the portal, Django, Celery, a library), and the error report mailed to
administrators leaves out personal fields and numbers."""

from __future__ import annotations

import logging
import re
from typing import Any

from django.views.debug import SafeExceptionReporterFilter

# A citizen ID card number: 12 digits not inside a longer run (an amount in đồng never has 12
# digits below a hundred billion, and one above would rather be hidden than logged).
NATIONAL_ID = re.compile(r"(?<!\d)\d{12}(?!\d)")
HIDDEN = "[CCCD]"
# Form fields that hold a national ID or a case's circumstances.
PERSONAL_FIELDS = re.compile(r"national_id|cccd|circumstances|reason|comment", re.IGNORECASE)


def redacted(text: str) -> str:
    return NATIONAL_ID.sub(HIDDEN, text)


_make_record = logging.getLogRecordFactory()


def _record(*args: Any, **kwargs: Any) -> logging.LogRecord:
    """A log record whose message and traceback are formatted at once with the numbers hidden
    (the formatter then uses them as they are)."""
    record = _make_record(*args, **kwargs)
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: left for logging to report as it does
        return record
    clean = redacted(message)
    if clean != message or record.args:
        record.msg, record.args = clean, ()
    if record.exc_info and record.exc_info[0] is not None:
        text = logging.Formatter().formatException(record.exc_info)
        record.exc_text = redacted(text)
    return record


def hide_national_ids_in_logs() -> None:
    """Install the record factory once (``CommonConfig.ready``)."""
    if logging.getLogRecordFactory() is not _record:
        logging.setLogRecordFactory(_record)


class PersonalDataReporterFilter(SafeExceptionReporterFilter):
    """Django's error report (the 500 e-mail to ADMINS) without a member's ID number or a
    case's circumstances: those form fields are cleansed like passwords, and every local
    variable shown in the traceback has its 12-digit numbers hidden."""

    def get_post_parameters(self, request):
        parameters = super().get_post_parameters(request)
        if request is None:
            return parameters
        cleansed = parameters.copy()
        for key in cleansed:
            if PERSONAL_FIELDS.search(key):
                cleansed[key] = self.cleansed_substitute
        return cleansed

    def get_traceback_frame_variables(self, request, tb_frame):
        return [
            (name, redacted(repr(value)))
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]
