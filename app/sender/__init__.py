"""The sender: delivering each person's reply outbox in order, dead-lettering what the Cloud API refuses."""
