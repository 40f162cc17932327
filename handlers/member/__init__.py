"""What members do besides asking: profile, feedback, surveys, rating answers."""
