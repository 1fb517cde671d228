"""`python -m tdkt_localstack up`: run the whole system locally (what `make up` calls).
`python -m tdkt_localstack prepare`: only fetch and build the servers (what `make test` runs
first, so a cold build is not counted against the first test's time limit).
`python -m tdkt_localstack demo`: replay the 2023 plan against the running system (`make demo`)."""

import sys

from tdkt_localstack.errors import StackError
from tdkt_localstack.ferretdb import ensure_binary
from tdkt_localstack.kafka import ensure_jars, kafka_version
from tdkt_localstack.paths import sub
from tdkt_localstack.supervisor import up


def demo() -> int:
    from tdkt_localstack.demo import main

    return main()


def prepare() -> int:
    try:
        print("preparing the local servers (cached after the first time) …", flush=True)
        print(f"  FerretDB: {ensure_binary(sub('cache')).resolve()}", flush=True)
        print(f"  Kafka {kafka_version()}: {ensure_jars(sub('cache'))}", flush=True)
    except StackError as exc:
        print(f"Cannot prepare the local servers: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    commands = {"up": up, "prepare": prepare, "demo": demo}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        print("usage: python -m tdkt_localstack up|prepare|demo", file=sys.stderr)
        sys.exit(2)
    sys.exit(commands[sys.argv[1]]())
