"""A hosted vendor's own reports: the run's callback receiver (``receiver``), each dialect's reading of them
(``dialects``) and their place in a run (``run``). docs/hosted-vendors.md explains the set-up and every figure."""
