"""Configuration: the config file, the seed files (one per source) and where the defaults live.

Typed, validated on load; every problem is reported at once with its file and key."""
