"""An effect written for a plugin API this server does not have."""

requires_api = 99


def open(sample_rate):  # noqa: A001
    return lambda samples: samples
