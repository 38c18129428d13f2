"""Text handling: sentence splitting, (later) SSML and normalization."""
