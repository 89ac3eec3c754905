"""Every REST blueprint of /api/v1, registered with flask-smorest in this order."""


def api_blueprints() -> list:
    """The API blueprints (imported lazily so the app factory stays cheap to import)."""
    from registry.agreements.views import blp as agreements
    from registry.alerts.digest_views import blp as digests
    from registry.alerts.views import blp as alerts
    from registry.alerts.webhook_views import blp as webhooks
    from registry.assignments.views import blp as assignments
    from registry.audit.views import blp as audit
    from registry.auth.views import blp as whoami
    from registry.auth.views import keys_blp as api_keys
    from registry.credentials.views import blp as credentials
    from registry.credentials.views import catalogue_blp as catalogue
    from registry.expirations.views import blp as expirations
    from registry.facilities.views import appointments_blp as appointments
    from registry.facilities.views import blp as facilities
    from registry.people.views import blp as people
    from registry.qualification.views import blp as qualification
    from registry.scopes.views import blp as scopes

    return [
        people,
        catalogue,
        credentials,
        facilities,
        appointments,
        scopes,
        agreements,
        qualification,
        assignments,
        audit,
        whoami,
        api_keys,
        expirations,
        alerts,
        digests,
        webhooks,
    ]
