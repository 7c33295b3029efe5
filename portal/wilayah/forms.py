"""The address widget's fields, mixed into any form that asks for an address."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import Length, Optional, Regexp, ValidationError

from portal.core.forms import float_or_none
from portal.wilayah.services import desa_grouped

# Deli Serdang with a margin: a pin outside is a slip of the finger, not an address here.
LAT_RANGE = (2.9, 4.0)
LON_RANGE = (98.4, 99.3)


class AddressFields:
    """Kecamatan -> desa/kelurahan -> street, RT/RW, landmark, and an optional map pin.

    A form sets `ADDRESS_REQUIRED = False` when the address may be left empty; once any part is
    given, kecamatan, desa and street are all needed. Call `load_address_choices()` after creating
    the form.
    """

    ADDRESS_REQUIRED = True

    # Rendered by the address_widget macro and checked against the gazetteer in validate_*.
    kecamatan = SelectField(_l("Kecamatan"), choices=[], validate_choice=False)
    desa = SelectField(_l("Desa / kelurahan"), choices=[], validate_choice=False)
    # No Optional() here: it would stop the chain before validate_street decides if it is needed.
    street = StringField(_l("Street, house number or hamlet (dusun)"), validators=[Length(max=200)])
    rt = StringField(
        _l("RT"),
        validators=[
            Optional(),
            Regexp(r"^\d{1,3}$", message=_l("Enter the RT as a number, like 003")),
        ],
    )
    rw = StringField(
        _l("RW"),
        validators=[
            Optional(),
            Regexp(r"^\d{1,3}$", message=_l("Enter the RW as a number, like 001")),
        ],
    )
    landmark = StringField(_l("Landmark (optional)"), validators=[Optional(), Length(max=200)])
    latitude = HiddenField(_l("Map pin latitude"))
    longitude = HiddenField(_l("Map pin longitude"))

    def load_address_choices(self) -> None:
        self.desa_groups = desa_grouped()
        self.kecamatan_list = [kec for kec, _desa in self.desa_groups]
        self._kec_codes = {k.code for k in self.kecamatan_list}
        self._desa_kec = {d.code: k.code for k, desa in self.desa_groups for d in desa}

    def _address_started(self) -> bool:
        return any((self.kecamatan.data, self.desa.data, self.street.data))

    def validate_kecamatan(self, field: Any) -> None:
        if not field.data:
            if self.ADDRESS_REQUIRED or self._address_started():
                raise ValidationError(_l("Choose your kecamatan"))
            return
        if field.data not in self._kec_codes:
            raise ValidationError(_l("Choose a kecamatan from the list"))

    def validate_desa(self, field: Any) -> None:
        if not field.data:
            if self.ADDRESS_REQUIRED or self._address_started():
                raise ValidationError(_l("Choose your desa or kelurahan"))
            return
        kec = self._desa_kec.get(field.data)
        if kec is None:
            raise ValidationError(_l("Choose a desa or kelurahan from the list"))
        if self.kecamatan.data and kec != self.kecamatan.data:
            raise ValidationError(_l("This desa is not in the chosen kecamatan; choose it again"))

    def validate_street(self, field: Any) -> None:
        if not field.data and (self.ADDRESS_REQUIRED or self._address_started()):
            raise ValidationError(_l("Enter the street, house number or dusun"))

    def validate_latitude(self, field: Any) -> None:
        lat, lon = float_or_none(field.data), float_or_none(self.longitude.data)
        if field.data in (None, "") and self.longitude.data in (None, ""):
            return
        if lat is None or lon is None:
            raise ValidationError(_l("The map pin is incomplete; place it again or remove it"))
        if not (LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LON_RANGE[0] <= lon <= LON_RANGE[1]):
            raise ValidationError(_l("Place the map pin inside Kabupaten Deli Serdang"))

    def address_data(self) -> dict[str, Any]:
        """The address as plain data for a service."""
        return {
            "kecamatan_code": self.kecamatan.data or None,
            "desa_code": self.desa.data or None,
            "street": self.street.data or None,
            "rt": (self.rt.data or "").zfill(3) if self.rt.data else None,
            "rw": (self.rw.data or "").zfill(3) if self.rw.data else None,
            "landmark": self.landmark.data or None,
            "latitude": float_or_none(self.latitude.data),
            "longitude": float_or_none(self.longitude.data),
        }

    def fill_address(self, obj: Any) -> None:
        """Prefill from a model with AddressMixin columns (profile default address)."""
        for name in ("kecamatan_code", "desa_code"):
            getattr(self, name.removesuffix("_code")).data = getattr(obj, name) or ""
        for name in ("street", "rt", "rw", "landmark"):
            getattr(self, name).data = getattr(obj, name) or ""
        self.latitude.data = "" if obj.latitude is None else f"{obj.latitude:.6f}"
        self.longitude.data = "" if obj.longitude is None else f"{obj.longitude:.6f}"
