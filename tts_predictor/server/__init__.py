"""Process assembly and transport plumbing: the app, gateway, gRPC, sockets and timeouts; no synthesis logic."""
