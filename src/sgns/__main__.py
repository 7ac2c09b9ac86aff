import sys

from sgns.cli import main

sys.exit(main())
