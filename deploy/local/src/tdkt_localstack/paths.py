"""Where things live. All state is under one folder, `var/` (or $TDKT_VAR), ignored by git:

var/cache/   downloads and builds, kept between runs (Kafka jars, the FerretDB binary; or $TDKT_CACHE)
var/data/    the local stack's Kafka log and FerretDB files (persist between `make up`s)
var/log/     one log file per process
var/keys/    the development JWT key pair
var/run/     prometheus multiprocess files and other run-time scratch
var/tmp/     servers started for test sessions (removed afterwards)
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[4]
DEPLOY_LOCAL = REPO / "deploy" / "local"


def var_dir() -> Path:
    return Path(os.environ.get("TDKT_VAR", REPO / "var")).resolve()


def sub(name: str) -> Path:
    """A folder under var/; `cache` may live elsewhere ($TDKT_CACHE), e.g. shared between checkouts."""
    path = Path(os.environ["TDKT_CACHE"]).resolve() if name == "cache" and os.environ.get("TDKT_CACHE") else var_dir() / name
    path.mkdir(parents=True, exist_ok=True)
    return path
