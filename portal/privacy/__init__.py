"""Residents' rights under UU 27/2022: notices, "Data saya", and the retention job."""
