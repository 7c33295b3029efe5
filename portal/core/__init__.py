"""Feature-agnostic building blocks shared by every service area."""
