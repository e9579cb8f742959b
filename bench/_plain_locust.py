"""The plain-Locust side of ``bench/harness_ceiling.py``: FastHttpUser posting the loop's own template body to the
mock as fast as it answers (no schedule, no adapter, no recorder, no health probe)."""

from __future__ import annotations

import itertools

from locust import FastHttpUser, constant, task

PHONE_ID = "100000000000001"
_counter = itertools.count()


class PlainSender(FastHttpUser):
    wait_time = constant(0)

    @task
    def send(self) -> None:
        number = next(_counter)
        body = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": f"1555{number % 1_000_000:07d}",
            "type": "template",
            "template": {"name": "hello_world", "language": {"code": "en_US"}},
            "biz_opaque_callback_data": f"sb-bench-{number}",
        }
        self.client.post(
            f"/v23.0/{PHONE_ID}/messages", json=body, headers={"Authorization": "Bearer mock-access-token"}
        )
