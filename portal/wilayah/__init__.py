"""The regency's gazetteer: 22 kecamatan and 394 desa/kelurahan, and the address widget behind it."""
