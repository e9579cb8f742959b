"""Servers the harness runs against: the mock WhatsApp Cloud API, reference SCRM vendors, vendor facades."""
