#!/usr/bin/env sh
# Build a local scrmbench test image without any registry (see build_image.py for what goes in).
#   deploy/image/build.sh busybox [--tag scrmbench-busybox:local]
#   deploy/image/build.sh python  [--tag scrmbench-python:local]
#   deploy/image/build.sh runtime  (the image launch.kind container runs; scrmbench run builds it when missing)
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-$here/../../.venv/bin/python}"
[ -x "$python" ] || python=python3
exec "$python" "$here/build_image.py" "$@"
