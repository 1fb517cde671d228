"""`python -m tdkt_localstack up`: run the whole system locally (what `make up` calls)."""

import sys

from tdkt_localstack.supervisor import up

if __name__ == "__main__":
    if sys.argv[1:] != ["up"]:
        print("usage: python -m tdkt_localstack up", file=sys.stderr)
        sys.exit(2)
    sys.exit(up())
