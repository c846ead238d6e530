"""sloguard objects -> peer formats (the way out): OpenSLO v1."""
