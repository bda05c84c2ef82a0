"""WhatsApp Cloud API: inbound webhooks, signature checks, outbound messages and the Graph API client."""
