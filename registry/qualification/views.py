"""REST endpoints: qualification checks and searches."""

import json

from flask import jsonify
from flask.views import MethodView

from registry.api import Blueprint, requires_scope, takes_write_lock_late
from registry.audit.context import current_actor
from registry.database import db
from registry.qualification import service
from schemas.qualification import (
    SEARCH_PAGE_SIZE,
    DecisionSchema,
    QualificationCheckRequestSchema,
    QualificationSearchRequestSchema,
    SearchResultSchema,
    StoredCheckSchema,
)

blp = Blueprint(
    "qualification", __name__, url_prefix="/api/v1", description="Is this person qualified?"
)


@blp.route("/qualification-checks")
class QualificationChecks(MethodView):
    @requires_scope("check")
    @takes_write_lock_late
    @blp.arguments(QualificationCheckRequestSchema())
    @blp.response(200, DecisionSchema)
    def post(self, data):
        """Is this person qualified for this case? Every failed requirement is listed."""
        stored = service.check(
            session=db.session,
            person_id=data["person_id"],
            role=data["role"],
            case=data["case"],
            asked_by=current_actor(),
        )
        db.session.commit()
        # plain JSON already (the schema documents it): skip marshmallow on the hot path
        answer = service.decision_of(stored)
        return jsonify({**answer, "checked_at": answer["checked_at"].isoformat()})


@blp.route("/qualification-checks/<check_id>")
class QualificationCheckById(MethodView):
    # the check scope asks the question and may read the stored answer back
    @requires_scope("read", "check")
    @blp.response(200, StoredCheckSchema)
    def get(self, check_id):
        """A stored check exactly as it was answered, with who asked."""
        stored = service.get_check(session=db.session, check_id=check_id)
        return {
            **service.decision_of(stored),
            "person_id": stored.person_id,
            "role": stored.role,
            "case": stored.case,
            "asked_by": stored.asked_by,
            "purpose": stored.purpose,
        }


@blp.route("/qualification-searches")
class QualificationSearches(MethodView):
    @requires_scope("check")
    @takes_write_lock_late
    @blp.arguments(QualificationSearchRequestSchema())
    @blp.response(
        200,
        SearchResultSchema,
        headers={
            "X-Pagination": {
                "description": "With page only: the unqualified list's pages (JSON: total, "
                "total_pages, first_page, last_page, page, previous_page, next_page)",
                "schema": {"type": "string"},
            }
        },
    )
    def post(self, data):
        """Who is qualified for this case? With include_unqualified, the others and why not
        (all of them, or with page one page of them in name order)."""
        page = data.get("page")
        page_size = data.get("page_size", SEARCH_PAGE_SIZE)
        found = service.search(
            session=db.session,
            role=data["role"],
            case=data["case"],
            include_unqualified=data["include_unqualified"],
            page=page,
            page_size=page_size,
        )
        # nothing was written; ending the read with COMMIT rather than the session's rollback
        # keeps the statements psycopg prepared on this connection (see registry.database)
        db.session.commit()
        headers = {}
        if page is not None:
            total = found.pop("unqualified_total")
            metadata = blp._make_pagination_metadata(page, page_size, total)
            headers["X-Pagination"] = json.dumps(metadata)
        # already plain JSON data: skip re-serialising thousands of reasons through marshmallow
        return jsonify(found), 200, headers
