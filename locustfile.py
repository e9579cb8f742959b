"""scrmbench as a plain locustfile: ``locust -f locustfile.py --scenario peak --vendor vendors/reference-steady.yaml``.

Works headless (``--headless``) and with the web UI (the scenario options appear there); distributed with
``--master`` / ``--worker --master-host H``. Records land in ``results/<run-id>/`` exactly as with
``scrmbench run``, which starts Locust with this same file.
"""

from harness.loadgen import hooks  # noqa: F401  (registers the scrmbench options and listeners)
from harness.loadgen.locust_engine import ClosedModelUser, OpenModelUser, PlanShape

__all__ = ["ClosedModelUser", "OpenModelUser", "PlanShape"]
