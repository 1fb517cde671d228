"""`python -m tdkt_registry api|consumer|relay|topics`: the service's processes."""

import sys

from tdkt.runtime import main

from tdkt_registry.bootstrap import SERVICE

sys.exit(main(SERVICE))
