"""`python -m vsee_contract.diff OLD NEW`: the same as `vsee-contract diff OLD NEW`."""

import sys

from .cli import main

sys.exit(main())
