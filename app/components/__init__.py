"""Conversation components: display, input, API and confirm steps."""
