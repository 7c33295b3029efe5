"""`make bench`: the portal's key pages against a Fortunes reference (README "Performance")."""
