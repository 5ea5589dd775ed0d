"""Serve a directory of wheels over loopback HTTP as a package index would, in the background.

    python3 serve-wheels.py DIRECTORY [PORT]

Used inside Dockerfile.test builds (`--network none`: the loopback interface is all there is) so
that pip downloads the wheels over HTTP and keeps them in its HTTP cache, exactly as it does
with a real index; a local `--find-links DIR` never fills that cache. pip caches a response only
when the server allows it (`Cache-Control: max-age`) and, for plain HTTP, only from a
`--trusted-host`. The parent process returns once the socket listens, so the next command of
the same RUN can install at once; the server ends with the build container.
"""

from __future__ import annotations

import functools
import http.server
import os
import sys


class CachingHandler(http.server.SimpleHTTPRequestHandler):
    """Files and directory listings, marked cacheable, without a log line per request."""

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "max-age=3600")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


def main(argv: list[str]) -> None:
    directory = argv[0]
    port = int(argv[1]) if len(argv) > 1 else 8000
    handler = functools.partial(CachingHandler, directory=directory)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    if os.fork():
        os._exit(0)
    os.setsid()
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
