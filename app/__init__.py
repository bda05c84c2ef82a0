"""VimbisoPay: the WhatsApp chat server of the credex payments ecosystem."""
