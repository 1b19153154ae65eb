"""``python -m bench``: run the benchmark harness."""

from bench.run import main

raise SystemExit(main())
