from pyimgsize.cli import main

raise SystemExit(main())
