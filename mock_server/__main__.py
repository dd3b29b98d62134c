"""`python -m mock_server` is `vsee-mock`."""

import sys

from .cli import main

sys.exit(main())
