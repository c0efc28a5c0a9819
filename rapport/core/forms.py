"""Form pieces every app's pages share: fields tied to their help and errors for screen readers.

The matching templates are ``core/_field.html`` (one field with its label, help and error) and
``core/_radio_field.html`` (a choice among radio buttons, as a fieldset).
"""

from __future__ import annotations

from typing import Any

from django import forms


class AccessibleForm(forms.Form):
    """Ties each field's help and error text to it (aria-describedby) and flags invalid fields.

    Templates render the help as ``<id>-help`` and the errors as ``<id>-error`` beside the
    field (core/_field.html, core/_radio_field.html), so a screen reader reads them with the field.
    """

    def full_clean(self) -> None:
        super().full_clean()
        self.describe_fields()

    def describe_fields(self) -> None:
        for name, field in self.fields.items():
            bound = self[name]
            described_by: list[str] = []
            if field.help_text:
                described_by.append(f"{bound.auto_id}-help")
            if self.is_bound and self.errors.get(name):
                described_by.append(f"{bound.auto_id}-error")
                field.widget.attrs["aria-invalid"] = "true"
            else:
                field.widget.attrs.pop("aria-invalid", None)
            if described_by:
                field.widget.attrs["aria-describedby"] = " ".join(described_by)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Labels are sentences or questions on these pages; a trailing colon would read oddly.
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.describe_fields()
