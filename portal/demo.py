"""Demo data for `make run`, built through the same services a real user goes through."""

from __future__ import annotations

from flask_babel import gettext as _

from portal.accounts import services
from portal.accounts.mfa import DEMO_TOTP_SECRET, enrol_with_secret
from portal.accounts.models import Role, User
from portal.wilayah.services import load_gazetteer

DEMO_PASSWORD = "demo-portal-2026"  # noqa: S105 - documented demo credential, demo mode only

# email, name, phone, extra role, desa code, street
DEMO_ACCOUNTS: list[tuple[str, str, str, Role | None, str, str]] = [
    (
        "warga@demo.test",
        "Siti Warga Nasution",
        "081260000001",
        None,
        "12.07.28.1008",
        "Jl. Diponegoro No. 12",
    ),
    (
        "penjual@demo.test",
        "Rudi Penjual Siregar",
        "081260000002",
        None,
        "12.07.02.2001",
        "Jl. Medan-Lubuk Pakam Km 17",
    ),
    (
        "petugas.sadoku@demo.test",
        "Dewi Petugas SADOKU",
        "081260000003",
        Role.SADOKU_OFFICER,
        "12.07.28.1008",
        "Jl. Karya Usaha, Kantor Disdukcapil",
    ),
    (
        "kurir.sadoku@demo.test",
        "Hendra Kurir SADOKU",
        "081260000006",
        Role.SADOKU_COURIER,
        "12.07.28.1008",
        "Jl. Karya Usaha, Kantor Disdukcapil",
    ),
    (
        "petugas.jumpamadu@demo.test",
        "Agus Petugas Jumpa Madu",
        "081260000004",
        Role.WASTE_OFFICER,
        "12.07.25.2001",
        "Bank Sampah Induk BERSERI",
    ),
    (
        "admin@demo.test",
        "Admin Portal",
        "081260000005",
        Role.ADMIN,
        "12.07.28.1008",
        "Kantor Bupati Deli Serdang",
    ),
]


def seed_demo_data() -> list[tuple[str, str]]:
    """Create what is missing; running it again changes nothing. Flushes, never commits."""
    load_gazetteer()
    admin: User | None = None
    created: list[tuple[str, str]] = []
    for email, name, phone, role, desa_code, street in DEMO_ACCOUNTS:
        user = services.find_user_by_identifier(email)
        if user is None:
            user = services.register_user(
                full_name=name, email=email, phone=phone, password=DEMO_PASSWORD, consent=True
            )
            services.update_profile(
                user,
                services.ProfileData(
                    full_name=name,
                    email=email,
                    phone=user.phone,
                    nik=None,
                    address={
                        "kecamatan_code": desa_code[:8],
                        "desa_code": desa_code,
                        "street": street,
                        "rt": "001",
                        "rw": "002",
                        "landmark": None,
                        "latitude": None,
                        "longitude": None,
                    },
                ),
            )
        if role == Role.ADMIN:
            services.bootstrap_admin(user)
            admin = user
        created.append((email, role.label if role else str(_("Resident"))))
    assert admin is not None
    for email, _name, _phone, role, _desa, _street in DEMO_ACCOUNTS:
        # The waste officer's grant names their unit, so the Jumpa Madu demo grants it.
        if role in (Role.SADOKU_OFFICER, Role.SADOKU_COURIER):
            user = services.find_user_by_identifier(email)
            assert user is not None
            if not user.has_role(role):
                services.grant_role(admin, user, role)
    _seed_services()
    # Staff log in with a second factor. Demo staff share one published secret (README), so a
    # newcomer adds it to an authenticator app once, or runs `pyotp`, and the browser tests can
    # log in; enrol_with_secret refuses outside demo mode.
    for email, *_rest in DEMO_ACCOUNTS:
        user = services.find_user_by_identifier(email)
        if user is not None and user.needs_mfa and not user.mfa_enrolled:
            enrol_with_secret(user, DEMO_TOTP_SECRET)
    return created


def _seed_services() -> None:
    from portal.jumpa_madu.demo import seed_jumpa_madu_demo
    from portal.mall.demo import seed_mall_demo
    from portal.sadoku.demo import seed_sadoku_demo

    def account(email: str) -> User:
        user = services.find_user_by_identifier(email)
        assert user is not None, email
        return user

    seed_sadoku_demo(
        account("warga@demo.test"),
        account("petugas.sadoku@demo.test"),
        account("kurir.sadoku@demo.test"),
        DEMO_PASSWORD,
    )
    seed_jumpa_madu_demo(
        account("petugas.jumpamadu@demo.test"),
        [account("warga@demo.test"), account("penjual@demo.test"), account("ani@demo.test")],
    )
    seed_mall_demo(account("penjual@demo.test"), account("admin@demo.test"))
