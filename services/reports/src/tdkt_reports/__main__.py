"""`python -m tdkt_reports api|consumer|relay|topics`: the service's processes."""

import sys

from tdkt.runtime import main

from tdkt_reports.bootstrap import SERVICE

sys.exit(main(SERVICE))
