"""Format checks of the residents' Jumpa Madu forms that the views rely on."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict
from wtforms.fields.choices import SelectChoice

from portal.jumpa_madu.forms import PickupForm, WithdrawalForm, parse_rupiah
from tests.factories import category


@pytest.mark.parametrize(
    ("typed", "rupiah"),
    [
        ("10.000", 10_000),
        ("10000", 10_000),
        ("Rp 25.000", 25_000),
        ("rp. 1.250.000", 1_250_000),
        (" 7 500 ", 7_500),
        ("10,5", None),
        ("10.000,00", None),
        ("-5000", None),
        ("sepuluh ribu", None),
        ("", None),
    ],
)
def test_parse_rupiah(typed, rupiah):
    assert parse_rupiah(typed) == rupiah


def _withdrawal_form(app, **data):
    with app.test_request_context(method="POST", data=MultiDict(data)):
        app.config["WTF_CSRF_ENABLED"], enabled = False, app.config.get("WTF_CSRF_ENABLED")
        try:
            form = WithdrawalForm()
            form.unit_id.choices = [SelectChoice("1", "Bank Sampah")]
            form.validate()
            return dict(form.errors), form.payout_details()
        finally:
            app.config["WTF_CSRF_ENABLED"] = enabled


def test_only_the_chosen_methods_fields_are_needed(app):
    errors, details = _withdrawal_form(app, amount="10.000", unit_id="1", method="cash")
    assert errors == {} and details == {}
    errors, _ = _withdrawal_form(app, amount="10.000", unit_id="1", method="bank")
    assert set(errors) == {"bank_name", "account_number", "account_holder"}
    errors, _ = _withdrawal_form(app, amount="10.000", unit_id="1", method="ewallet")
    assert set(errors) == {"ewallet_provider", "ewallet_number"}
    errors, details = _withdrawal_form(
        app,
        amount="10.000",
        unit_id="1",
        method="ewallet",
        ewallet_provider="OVO",
        ewallet_number="0812",
        bank_name="BRI",
    )
    assert errors == {} and details == {"ewallet_provider": "OVO", "ewallet_number": "0812"}


def test_an_unknown_unit_or_provider_is_refused(app):
    errors, _ = _withdrawal_form(
        app, amount="10.000", unit_id="9", method="ewallet", ewallet_provider="Bitcoin",
        ewallet_number="0812",
    )  # fmt: skip
    assert set(errors) == {"unit_id", "ewallet_provider"}


def test_weights_take_a_comma_or_a_dot_and_one_decimal(app):
    with app.test_request_context():
        pet, kardus = category("pet"), category("kardus")
        ids = [pet.id, kardus.id]
    data = MultiDict({f"weight_{pet.id}": "2,5", f"weight_{kardus.id}": "1.5"})
    with app.test_request_context(method="POST", data=data):
        app.config["WTF_CSRF_ENABLED"], enabled = False, app.config.get("WTF_CSRF_ENABLED")
        try:
            form = PickupForm.for_categories([pet, kardus])
            form.validate()
            assert not any(form.weight_field(cid).errors for cid in ids)
            assert form.estimate_grams(ids) == {pet.id: 2500, kardus.id: 1500}
        finally:
            app.config["WTF_CSRF_ENABLED"] = enabled
    data = MultiDict({f"weight_{pet.id}": "2,55"})
    with app.test_request_context(method="POST", data=data):
        app.config["WTF_CSRF_ENABLED"], enabled = False, app.config.get("WTF_CSRF_ENABLED")
        try:
            form = PickupForm.for_categories([pet, kardus])
            form.validate()
            assert form.weight_field(pet.id).errors
        finally:
            app.config["WTF_CSRF_ENABLED"] = enabled
