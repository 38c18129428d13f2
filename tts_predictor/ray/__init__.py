"""Ray Serve mode: the driver (front + synthesizer) and the replica deployment."""
