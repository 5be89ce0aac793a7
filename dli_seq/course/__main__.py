"""``python -m dli_seq.course`` (``make course``): run every course notebook (4.1-4.5) headless."""

import sys

from .runner import main

sys.exit(main())
