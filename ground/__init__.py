"""The ground floor: what every other floor may import, and which imports nothing else of ours.

clock.py        Clock protocol, the real clock and a fake for tests
errors.py       the one exception tree and the exit codes
net.py          loopback and allowlist checks for targets, free ports
records.py      the run's record schemas (requests, faults, manifest)
secrets.py      secrets from the environment, and their redaction everywhere
orphans.py      child processes that die with their parent
loading.py      YAML with line numbers, pydantic validation into ConfigErrors
durations.py    one human duration parser ("90", "1m30s") for every option and file
correlation.py  the correlation tokens the harness sends and the mock finds
registry.py     ``Registry[T]``: plug-ins by name, one shape for every kind
stats.py        the one nearest-rank percentile (rank_index, percentile)
"""
