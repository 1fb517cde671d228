"""Request bodies the size limit and the JSON parser must refuse cleanly (413 / 400, never 500).

- A body without Content-Length (`Transfer-Encoding: chunked`; gunicorn sets
  `wsgi.input_terminated`) is capped by werkzeug at MAX_CONTENT_LENGTH by *silently truncating*
  it (`LimitedStream.readall` stops at the limit): a 3 MB JSON body then reads as broken JSON
  (400), and a body whose first MB happens to be valid JSON would be taken without its tail.
  `BoundedRequest` reads such a body up to the limit plus one byte and answers 413 past it.
- Python's JSON parser recurses once per nesting level: `[[[[…]]]]` 50,000 deep (100 KB, under
  the size limit) raises RecursionError, which is the client's malformed body, not our fault.
"""

from __future__ import annotations

import io
from typing import IO

from flask import Request, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import get_input_stream

TOO_DEEP = "Dữ liệu JSON lồng nhau quá sâu / the JSON body is nested too deeply"


class BoundedRequest(Request):
    @cached_property
    def stream(self) -> IO[bytes]:
        limit = self.max_content_length  # read when the body is first read: an upload endpoint may have raised it
        if self.content_length is None and limit is not None and self.environ.get("wsgi.input_terminated"):
            data = self.environ["wsgi.input"].read(limit + 1)
            if len(data) > limit:
                raise RequestEntityTooLarge()
            return io.BytesIO(data)
        return get_input_stream(self.environ, max_content_length=limit)


def nested_too_deep(exc: BaseException) -> bool:
    """Whether `exc` is the JSON parser giving up on the request body's nesting."""
    return isinstance(exc, RecursionError) and request.is_json
