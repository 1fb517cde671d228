"""`python -m tdkt_awards api|consumer|relay|topics`: the service's processes."""

import sys

from tdkt.runtime import main

from tdkt_awards.bootstrap import SERVICE

sys.exit(main(SERVICE))
