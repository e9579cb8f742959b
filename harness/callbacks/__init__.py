"""A hosted vendor's own reports: the run's callback receiver (``receiver``), each dialect's reading of them
(``dialects``) and their place in a run (``run``). docs/hosted-vendors.md explains the set-up and every figure."""

# The adapter option that carries a per-message callback URL (Twilio's ``StatusCallback``): the run writes the
# receiver's URL into it; an adapter whose options have it "takes the URL with every send".
CALLBACK_OPTION = "status_callback"
