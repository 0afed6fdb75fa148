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
    sandbox.bulk.store_upload(key, upload.read())
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
