"""One account system for every service: users, roles, sign-in, profile and admin of accounts."""
