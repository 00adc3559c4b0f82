"""Infrastructure: settings, the embedded server, engines, migrations and roles (no domain logic)."""
