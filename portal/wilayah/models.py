"""Kecamatan and desa/kelurahan (Kemendagri codes) and the address columns every area reuses."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import CheckConstraint, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from portal.extensions import db


class Kecamatan(db.Model):
    """A kecamatan (district) of Deli Serdang; `code` is the Kemendagri code such as 12.07.28."""

    __tablename__ = "kecamatan"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)

    desa: Mapped[list[Desa]] = relationship(
        back_populates="kecamatan", order_by="Desa.name", lazy="select"
    )

    def __repr__(self) -> str:
        return f"<Kecamatan {self.code} {self.name}>"


class Desa(db.Model):
    """A desa or kelurahan; its centroid stands in for an address when there is no map pin."""

    __tablename__ = "desa"
    __table_args__ = (CheckConstraint("type IN ('desa', 'kelurahan')", name="type"),)

    code: Mapped[str] = mapped_column(String(13), primary_key=True)
    kecamatan_code: Mapped[str] = mapped_column(ForeignKey("kecamatan.code"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    type: Mapped[str] = mapped_column(String(10))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)

    kecamatan: Mapped[Kecamatan] = relationship(back_populates="desa")

    @property
    def label(self) -> str:
        return desa_label(self.name, self.type)

    def __repr__(self) -> str:
        return f"<Desa {self.code} {self.name}>"


def desa_label(name: str, kind: str) -> str:
    """How a village is listed: kelurahan are marked, since a desa may share the name."""
    if kind != "kelurahan":
        return name
    marker = _("kelurahan")  # outside the f-string, where pybabel can extract it
    return f"{name} ({marker})"


ADDRESS_COLUMNS = (
    "kecamatan_code",
    "desa_code",
    "street",
    "rt",
    "rw",
    "landmark",
    "latitude",
    "longitude",
)


class AddressMixin:
    """Address columns: kecamatan + desa + street, RT/RW, landmark, and an optional map pin.

    Used by the user profile now and by delivery, pickup and shop addresses later, so every area
    stores and validates an address the same way.
    """

    kecamatan_code: Mapped[str | None] = mapped_column(ForeignKey("kecamatan.code"), index=True)
    desa_code: Mapped[str | None] = mapped_column(ForeignKey("desa.code"))
    street: Mapped[str | None] = mapped_column(String(200))
    rt: Mapped[str | None] = mapped_column(String(3))
    rw: Mapped[str | None] = mapped_column(String(3))
    landmark: Mapped[str | None] = mapped_column(String(200))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)

    @declared_attr
    def kecamatan(cls) -> Mapped[Kecamatan | None]:
        return relationship(Kecamatan, foreign_keys=[cls.kecamatan_code])

    @declared_attr
    def desa(cls) -> Mapped[Desa | None]:
        return relationship(Desa, foreign_keys=[cls.desa_code])

    def address_data(self) -> dict[str, Any]:
        """The address columns as plain data (the shape `AddressFields.address_data` returns)."""
        return {column: getattr(self, column) for column in ADDRESS_COLUMNS}

    @property
    def has_address(self) -> bool:
        return bool(self.desa_code and self.street)

    @property
    def has_pin(self) -> bool:
        return self.latitude is not None and self.longitude is not None
