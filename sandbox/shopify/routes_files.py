"""The staged-upload target (multipart POST, like Shopify's cloud storage form) and the bulk
result download."""

from __future__ import annotations

from xml.sax.saxutils import escape

from flask import Blueprint, Response, current_app, request

blueprint = Blueprint("sandbox_files", __name__)


@blueprint.post("/_staged_uploads")
def staged_upload() -> Response:
    sandbox = current_app.config["SANDBOX"]
    key = request.form.get("key")
    upload = request.files.get("file")
    if not key or upload is None:
        return Response(
            "<Error><Code>InvalidArgument</Code><Message>key and file are required</Message></Error>",
            status=400,
            mimetype="application/xml",
        )
    data = upload.read()
    limit = sandbox.options.bulk_max_upload_bytes
    if len(data) > limit:  # the storage's policy: nothing is stored, the run finds no file
        return Response(
            "<?xml version='1.0' encoding='UTF-8'?><Error><Code>EntityTooLarge</Code>"
            "<Message>Your proposed upload exceeds the maximum allowed size</Message>"
            f"<ProposedSize>{len(data)}</ProposedSize><MaxSizeAllowed>{limit}</MaxSizeAllowed></Error>",
            status=400,
            mimetype="application/xml",
        )
    sandbox.bulk.store_upload(key, data)
    if request.form.get("success_action_status") == "201":
        body = (
            "<?xml version='1.0' encoding='UTF-8'?><PostResponse>"
            f"<Location>{escape(request.url)}/{escape(key)}</Location>"
            f"<Bucket>shopify-staged-uploads</Bucket><Key>{escape(key)}</Key></PostResponse>"
        )
        return Response(body, status=201, mimetype="application/xml")
    return Response(status=204)


@blueprint.get("/_bulk_results/<int:op_num>.jsonl")
def bulk_result(op_num: int) -> Response:
    data = current_app.config["SANDBOX"].bulk.result_file(op_num)
    if data is None:
        return Response("Not Found", status=404)
    return Response(data, mimetype="application/jsonl")
