"""SADOKU (Siap Antar Dokumen Kependudukan): civil-registry documents delivered home."""
