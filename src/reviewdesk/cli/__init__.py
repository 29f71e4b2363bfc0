"""Command line: argparse front end over the services (never imports Qt)."""
