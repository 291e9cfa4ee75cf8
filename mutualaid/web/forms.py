"""Public forms. Error messages are English message ids (N_), translated in templates."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from mutualaid.web.i18n import N_
from sms.phones import InvalidPhoneNumber, normalize

URGENCIES = [SelectChoice(u) for u in ("normal", "soon", "urgent")]
RADII = [SelectChoice(r) for r in ("1", "2", "3", "5", "8", "15")]


class PhoneField(StringField):
    """A phone number, normalised to E.164 in the region given at validation."""

    def pre_validate(self, form: FlaskForm) -> None:
        raw = (self.data or "").strip()
        if not raw:
            return
        try:
            self.e164 = normalize(raw, region=form.phone_region)
        except InvalidPhoneNumber:
            raise ValidationError(
                N_(
                    "That does not look like a phone number. Include the area code, e.g. 718 555 0101."  # noqa: E501 (one message id)
                )
            ) from None


def from_choices(message: str):
    """Validator: every value is one of the field's choices (WTForms' own check has an
    untranslated message)."""

    def check(form: FlaskForm, field) -> None:
        allowed = {c.value for c in field.choices}
        values = field.data if isinstance(field.data, list) else [field.data]
        if any(v not in allowed for v in values):
            raise ValidationError(message)

    return check


class _Form(FlaskForm):
    phone_region = "US"

    def __init__(self, *args, phone_region: str = "US", categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.phone_region = phone_region
        self._set_category_choices(categories)

    def _set_category_choices(self, categories) -> None:
        pass


class RequestForm(_Form):
    category = RadioField(
        "category",
        validate_choice=False,
        validators=[
            InputRequired(N_("Choose what you need.")),
            from_choices(N_("Choose what you need.")),
        ],
    )
    details = TextAreaField(
        "details", validators=[Length(max=500, message=N_("This is too long."))]
    )
    location_text = StringField(
        "location",
        validators=[
            DataRequired(N_("Tell us roughly where: a ZIP code, neighbourhood or corner.")),
            Length(max=200, message=N_("This is too long.")),
        ],
    )
    address = StringField("address", validators=[Length(max=200, message=N_("This is too long."))])
    urgency = RadioField(
        "urgency",
        choices=URGENCIES,
        default="normal",
        validate_choice=False,
        validators=[InputRequired(N_("Choose how soon.")), from_choices(N_("Choose how soon."))],
    )
    name = StringField("name", validators=[Length(max=80, message=N_("This is too long."))])
    phone = PhoneField(
        "phone", validators=[DataRequired(N_("Enter a phone number so we can reach you."))]
    )

    def _set_category_choices(self, categories) -> None:
        self.category.choices = [SelectChoice(k, label) for k, label in categories]


class OfferForm(_Form):
    categories = SelectMultipleField(
        "categories",
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=False,
        validators=[
            DataRequired(N_("Choose at least one kind of help.")),
            from_choices(N_("Choose at least one kind of help.")),
        ],
    )
    location_text = StringField(
        "location",
        validators=[
            DataRequired(N_("Tell us roughly where: a ZIP code, neighbourhood or corner.")),
            Length(max=200, message=N_("This is too long.")),
        ],
    )
    radius_km = SelectField(
        "radius",
        choices=RADII,
        default="3",
        validate_choice=False,
        validators=[from_choices(N_("Please check this answer."))],
    )
    capacity = IntegerField(
        "capacity",
        default=1,
        validators=[
            InputRequired(N_("Enter a number from 1 to 10.")),
            NumberRange(min=1, max=10, message=N_("Enter a number from 1 to 10.")),
        ],
    )
    availability = StringField(
        "availability", validators=[Length(max=200, message=N_("This is too long."))]
    )
    name = StringField("name", validators=[Length(max=80, message=N_("This is too long."))])
    phone = PhoneField(
        "phone", validators=[DataRequired(N_("Enter a phone number so we can reach you."))]
    )

    def _set_category_choices(self, categories) -> None:
        self.categories.choices = [SelectChoice(k, label) for k, label in categories]
