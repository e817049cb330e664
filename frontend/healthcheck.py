"""Container health check: GET the liveness path from inside the container.

The slim image has no curl or wget; Python is already there. Exit 0 when the
app answers 2xx, 1 otherwise (what Docker and ECS health checks expect).
"""

from __future__ import annotations

import os
import sys
import urllib.request


def main() -> int:
    port = os.environ.get("PORT", "5000")
    path = os.environ.get("HEALTH_CHECK_PATH", "/healthz")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as response:
            return 0 if 200 <= response.status < 300 else 1
    except OSError as error:
        print(f"health check failed: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
