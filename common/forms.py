"""Form pieces every app uses."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError


class DateInput(forms.DateInput):
    """The browser's own date picker, read and written as ISO dates."""

    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


def apply_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's refusal on the form, on the field it names when the form has it."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)
