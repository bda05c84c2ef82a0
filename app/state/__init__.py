"""The state engine: atomic, versioned conversation state per channel on Redis."""
