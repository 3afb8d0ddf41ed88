import sys

from hydra_yaml_lint.cli import main

sys.exit(main())
