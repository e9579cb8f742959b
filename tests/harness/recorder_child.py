"""A child process for the SIGKILL test: records rows as fast as it can and reports each finished flush.

    python tests/harness/recorder_child.py RUN_DIR

Each stdout line ``flushed N`` says that rows 0..N-1 are on disk in complete shards.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from harness.recorder import RequestRecorder, ShardSink


def main() -> None:
    run_dir = Path(sys.argv[1])
    sink = ShardSink(run_dir / "requests", "child", flush_interval=0.2)
    recorder = RequestRecorder(sink, vendor="v", scenario="s")
    sequence = 0
    while True:  # runs until the parent kills it; the parent's timeout bounds it
        now = time.time()
        recorder.on_request(
            request_type="POST",
            name="send_text",
            response_time=1.0,
            response_length=10,
            context={"correlation_id": f"seq-{sequence}", "operation": "send_text"},
            start_time=now,
        )
        sequence += 1
        if sink.due() and sink.flush() is not None:
            print(f"flushed {sink.rows_written}", flush=True)


if __name__ == "__main__":
    main()
