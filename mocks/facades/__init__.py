"""Local facades of real BSP APIs (Twilio, WATI, 360dialog) that forward to the mock WhatsApp Graph API.

With a facade a trial runs end to end against "a Twilio-shaped vendor": the harness speaks the vendor's dialect,
the facade translates to Cloud API calls, and the mock's ledger accounts for every message. Serve one with
``python -m mocks.facades --dialect twilio --port P --whatsapp-url URL`` or ``mocks.facades.launch``.
"""
