"""`python -m localaws` runs the CLI."""
from localaws.cli import main

main()
