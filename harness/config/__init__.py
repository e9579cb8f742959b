"""Validated configuration: vendor profiles, SLA files, fault schedules, all loaded through ``loading``."""
