"""Pages that belong to no single service: home, privacy notice, language, health, notifications."""
