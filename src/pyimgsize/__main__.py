from pyimgsize.cli.app import main

raise SystemExit(main())
