"""REST endpoints about API keys: the calling key (a cheap authenticated probe for
integrators), and for admins the list of keys and their revocation. Keys are created only by
the CLI (``registry api-keys create``), which shows the new key once."""

from flask import g
from flask.views import MethodView
from marshmallow import fields

from registry.api import Blueprint, paginate, requires_scope
from registry.auth import keys
from registry.auth.models import SCOPES
from registry.database import db
from schemas.base import BaseSchema

blp = Blueprint("keys", __name__, url_prefix="/api/v1/whoami", description="The calling key")
keys_blp = Blueprint(
    "api_keys", __name__, url_prefix="/api/v1/api-keys", description="API keys (admin)"
)


class WhoAmISchema(BaseSchema):
    name = fields.String()
    scopes = fields.List(fields.String())


class ApiKeySchema(BaseSchema):
    id = fields.String()
    name = fields.String()
    prefix = fields.String(
        metadata={"description": "The key's public start (reg_<prefix>_...), to tell keys apart."}
    )
    scopes = fields.List(fields.String())
    created_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)


class ApiKeyQuerySchema(BaseSchema):
    revoked = fields.Boolean(
        metadata={"description": "Only revoked (true) or active (false) keys."}
    )


@blp.route("")
class WhoAmI(MethodView):
    @requires_scope(*SCOPES)
    @blp.response(200, WhoAmISchema)
    def get(self):
        """The name and scopes of the API key making the request (any active key may ask:
        a staffing system holding only the check scope can test its key too)."""
        return {"name": g.api_key.name, "scopes": list(g.api_key.scopes)}


@keys_blp.route("")
class ApiKeys(MethodView):
    @requires_scope("admin")
    @keys_blp.arguments(ApiKeyQuerySchema, location="query")
    @keys_blp.response(200, ApiKeySchema(many=True))
    @keys_blp.paginate()
    def get(self, filters, pagination_parameters):
        """Every API key by name, with its scopes and whether it is revoked (never the key)."""
        return paginate(db.session, keys.list_statement(**filters), pagination_parameters)


@keys_blp.route("/<key_id>/revoke")
class ApiKeyRevoke(MethodView):
    @requires_scope("admin")
    @keys_blp.response(200, ApiKeySchema)
    def post(self, key_id):
        """Revoke a key: it answers 401 at once, on every replica (revoking again changes
        nothing). New keys are made with ``registry api-keys create``."""
        key = keys.revoke_key(keys.get(session=db.session, key_id=key_id))
        db.session.commit()
        return key
