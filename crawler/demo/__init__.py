"""The bundled sample news site, served on loopback for `wirewatch demo` and the tests.

Pages under `site/` are templates; `seed.toml` is its seed."""
