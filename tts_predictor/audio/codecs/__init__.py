"""Streaming codecs: the encoder front and its libsndfile, ffmpeg and PyAV backends."""
