"""SLA presets shipped with scrmbench (``--sla standard`` / ``--sla enterprise``); each criterion cites its source."""
