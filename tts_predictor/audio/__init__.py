"""Audio values, encoders and signal processing."""
