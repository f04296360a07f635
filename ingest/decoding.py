"""Content-Encoding decoding with a hard output cap, so a compression bomb costs at most the limit.

The HTTP client hands us the body still encoded (aiohttp runs with ``auto_decompress=False``):
its own decoder has no output cap, ours inflates in bounded steps and stops one step past it.
"""

from __future__ import annotations

import zlib

import brotli

from ingest.errors import ConnectError, TooLarge

DECOMPRESS_STEP = 1 << 20  # bytes inflated per zlib call


class BoundedDecoder:
    """Content-Encoding decoder (gzip, deflate, br, identity) that refuses to produce more than ``limit`` bytes."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.limit = limit
        self.produced = 0
        codings = [c.strip().lower() for c in encoding.split(",") if c.strip()]
        codings = [c for c in codings if c not in ("identity", "none")]
        if len(codings) > 1:
            raise ConnectError(f"stacked content-encodings {encoding!r} are not supported", retriable=False)
        self.kind = codings[0] if codings else ""
        self._z: zlib._Decompress | None = None
        if self.kind in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.kind == "br":
            self._br = brotli.Decompressor()
        elif self.kind not in ("", "deflate"):  # deflate: zlib-wrapped or raw is decided on the first chunk
            raise ConnectError(f"unsupported content-encoding {encoding!r}", retriable=False)

    def _account(self, out: bytes) -> bytes:
        self.produced += len(out)
        if self.produced > self.limit:
            raise TooLarge(f"decompressed body exceeds {self.limit} bytes")
        return out

    def feed(self, chunk: bytes) -> bytes:
        """The decoded bytes of one raw chunk; raises TooLarge past the limit, ConnectError on corrupt data."""
        try:
            if not self.kind:
                return self._account(chunk)
            if self.kind == "br":
                return self._brotli(chunk)
            return self._inflate(chunk)
        except (zlib.error, brotli.error) as exc:
            raise ConnectError(f"corrupt {self.kind} body: {exc}", retriable=False) from exc

    def _brotli(self, chunk: bytes) -> bytes:
        parts = [self._account(self._br.process(chunk, output_buffer_limit=self.limit - self.produced + 1))]
        while not self._br.can_accept_more_data():
            parts.append(self._account(self._br.process(b"", output_buffer_limit=self.limit - self.produced + 1)))
        return b"".join(parts)

    def _inflate(self, chunk: bytes) -> bytes:
        if self._z is None:  # deflate: RFC says zlib-wrapped, many servers send raw
            zlib_header = chunk[:1] and (chunk[0] & 0x0F) == 8 and int.from_bytes(chunk[:2], "big") % 31 == 0
            self._z = zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)
        # Inflate in small steps so a bomb is caught after at most one step past the limit.
        out = bytearray()
        data = chunk
        while True:
            room = self.limit - self.produced + 1
            out += self._account(self._z.decompress(data, min(room, DECOMPRESS_STEP)))
            data = self._z.unconsumed_tail
            if not data:
                return bytes(out)

    def flush(self) -> bytes:
        """Whatever the decoder still holds at the end of the body."""
        if self._z is not None:
            return self._account(self._z.flush())
        return b""
