"""REST endpoint describing the calling API key: a cheap authenticated probe for integrators."""

from flask import g
from flask.views import MethodView
from marshmallow import fields

from registry.api import Blueprint, requires_scope
from schemas.base import BaseSchema

blp = Blueprint("keys", __name__, url_prefix="/api/v1/whoami", description="The calling key")


class WhoAmISchema(BaseSchema):
    name = fields.String()
    scopes = fields.List(fields.String())


@blp.route("")
class WhoAmI(MethodView):
    @requires_scope("read")
    @blp.response(200, WhoAmISchema)
    def get(self):
        """The name and scopes of the API key making the request."""
        return {"name": g.api_key.name, "scopes": g.api_key.scopes}
