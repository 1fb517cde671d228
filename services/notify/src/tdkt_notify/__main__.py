"""`python -m tdkt_notify api|consumer|relay|topics`: the service's processes."""

import sys

from tdkt.runtime import main

from tdkt_notify.bootstrap import SERVICE

sys.exit(main(SERVICE))
