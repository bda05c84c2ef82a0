"""Workers: every service process reads the inbox partitions it owns, one person at a time, in order."""
