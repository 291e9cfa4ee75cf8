"""`python -m mutualaid` is the `mutualaid` command."""

from mutualaid.cli import main

main()
