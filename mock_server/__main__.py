"""`python -m mock_server` is `vsee-mock` (the command lines live above the mock, in vsee_cli)."""

import sys

from vsee_cli.vsee_mock import main

sys.exit(main())
