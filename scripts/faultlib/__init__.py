"""The fault suite (scripts/faults): private loopback services, server processes, real Socket.IO
clients, and the scenarios that break things under them."""
