import sys

from skillmeat.cli.entry import main

sys.exit(main())
