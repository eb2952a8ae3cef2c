"""Stand-ins for the servers the add-on talks to besides Microsoft (which entra_simulator plays)."""
