"""Linda: village internet program platform."""
