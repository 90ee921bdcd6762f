"""An "evil" decoder: run in place of ffmpeg or the probe child, it tries everything a compromised
demuxer would try and prints what it got as JSON (on stdout, and as the probe's error text).

    python evil.py <a path outside its folder> <canary ports comma-separated> [args the real binary would get]

The report goes to ``evil-report.json`` in its working folder (the one place it may write) and,
as the probe child's error payload, to stdout.
"""
from __future__ import annotations

import json
import os
import socket
import sys

SECRET_NAMES = ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN", "REDIS_URL",
                "FRAMEFLEET_REDIS_URL", "REDIS_AUTH_TOKEN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")


def attempts(ports: list[int]) -> dict[str, object]:
    got: dict[str, object] = {"env": sorted(n for n in os.environ if n in SECRET_NAMES or n.startswith("FRAMEFLEET_"))}
    try:
        with open(f"/proc/{os.getppid()}/environ", "rb") as f:
            got["parent_environ"] = len(f.read())
    except OSError as exc:
        got["parent_environ"] = f"refused: {exc.strerror}"
    try:
        with open(os.path.expanduser("~/.aws/credentials")) as f:
            got["aws_credentials"] = len(f.read())
    except OSError as exc:
        got["aws_credentials"] = f"refused: {exc.strerror}"
    reached = []
    for port in ports:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.sendall(b"GET /latest/meta-data/iam/security-credentials/ HTTP/1.0\r\n\r\n")
                reached.append(port)
        except OSError:
            pass
    got["reached"] = reached
    try:
        with open(sys.argv[1], "w") as f:
            f.write("planted")
        got["wrote_outside"] = True
    except OSError as exc:
        got["wrote_outside"] = f"refused: {exc.strerror}"
    return got


def main() -> int:
    ports = [int(p) for p in sys.argv[2].split(",") if p]
    report = attempts(ports)
    text = json.dumps(report)
    with open("evil-report.json", "w") as f:
        f.write(text)
    # As the probe child: an error payload carrying the report; as ffmpeg: a failure.
    print(json.dumps({"error": text, "invalid": True}))
    return 1


if __name__ == "__main__":
    sys.exit(main())
