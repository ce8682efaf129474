"""JSON API for signed-in users. The same contract as the command line (docs/schedule-api.md)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from werkzeug.wrappers import Response

from taper.domain.formulary import load_formulary
from taper.domain.organisations import Role
from taper.domain.regimen import RegimenError
from taper.domain.schedule_contract import errors_document, schedule_from_request
from taper.web.security import roles

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")


@blueprint.route("/schedules/preview", methods=["POST"])
@roles(*Role)
def schedule_preview() -> tuple[Response, int]:
    """Build a schedule from the request without saving anything: 200 with the schedule, 422 with errors."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the reader follows: malformed, like any other (issue 15)
        body = None
    if body is None:
        return jsonify({"errors": [{"field": "request", "message": "malformed JSON: send one JSON object"}]}), 422
    try:
        return jsonify(schedule_from_request(body, load_formulary())), 200
    except RegimenError as refusal:
        return jsonify(errors_document(refusal)), 422
