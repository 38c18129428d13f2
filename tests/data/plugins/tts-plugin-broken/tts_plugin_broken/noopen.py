"""An effect without its `open` function."""

requires_api = 1
