"""Segments to audio buffers on whatever runs the engine, sharing its capacity fairly."""
