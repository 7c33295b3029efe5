"""The regency's gazetteer (22 kecamatan, 394 desa/kelurahan) and the address widget on it."""
