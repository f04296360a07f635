"""A real HTTP server on 127.0.0.1 that serves test feeds; bodies can be swapped while it runs."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape


class FeedServer:
    """`routes[path] = (status, content_type, body)`; every GET is counted in `hits`."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, str, bytes]] = {}
        self.hits: dict[str, int] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server API
                outer.hits[self.path] = outer.hits.get(self.path, 0) + 1
                status, ctype, body = outer.routes.get(self.path, (404, "text/plain", b"not found"))
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> FeedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def rss(title: str, items: list[dict[str, str]]) -> bytes:
    """A small RSS 2.0 document; items have title, link, description, pubDate, guid."""
    parts = [f"<item><title>{escape(i['title'])}</title><link>{escape(i['link'])}</link>"
             f"<guid>{escape(i.get('guid', i['link']))}</guid><pubDate>{i['pubDate']}</pubDate>"
             f"<description>{escape(i['description'])}</description></item>" for i in items]
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(title)}</title>'
            f"<link>http://example.org/</link><description>test</description>{''.join(parts)}</channel></rss>"
            ).encode()
