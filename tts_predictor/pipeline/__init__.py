"""One request text to encoded audio: planning, admission, caching, rendering and streaming."""
