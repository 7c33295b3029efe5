"""Jumpa Madu (Jemput Sampah Terima Duit): sorted waste picked up from home and paid for."""
