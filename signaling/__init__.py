"""The python-socketio hub: auth on connect, acks with domain errors, clock sync, fan-out."""
