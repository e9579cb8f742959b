"""How the harness talks to each vendor (design.md, "Seams": the vendor adapter).

    base.py             calls, HttpRequest / HttpResponse, Outcome, the Adapter protocol (sans-IO)
    common.py           what the built-in dialects share: auth headers, encoders, dispatch, timeouts
    reference.py        our reference SCRM
    cloud_api.py        Meta's Cloud API shape and the 360dialog dialect
    twilio.py, wati.py  the Twilio and WATI dialects
    generic_http.py     declarative: any vendor described in its profile
    registry.py         adapters by name; profile checks; create_adapter() reads the secrets
    executors.py        httpx executors, VendorClient, connect() (target safety first)
    locust_executor.py  send through a Locust user's client; record fields into events.request's context
    locust_probe.py     a bounded Locust session through any adapter, as its own process
    samples.py          the sample media every contract check sends (the smoke check and the probe)

This package's __init__ imports nothing: profiles import ``base`` and the registry imports profiles.
"""
