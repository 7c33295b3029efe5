"""Deli Serdang Mall: UMKM shops and their products, found by anyone, contacted on WhatsApp."""
