"""@rawhttp run(request): AMLRequest access (args, headers, cookies, form, files, body) and AMLResponse variants."""
import hashlib
import io

from azureml.contrib.services.aml_request import AMLRequest, rawhttp  # noqa: F401
from azureml.contrib.services.aml_response import AMLResponse

BINARY_TYPES = ("image/png", "image/jpeg", "application/octet-stream")


def init():
    pass


def _sha(data):
    return hashlib.sha256(data).hexdigest()


def _describe_file(field, storage):
    content = storage.read()
    info = {"field": field, "filename": storage.filename, "content_type": storage.content_type,
            "size": len(content), "sha256": _sha(content)}
    try:
        from PIL import Image
        with Image.open(io.BytesIO(content)) as img:
            info["image"] = {"size": list(img.size), "mode": img.mode}
    except Exception:
        pass
    return info


def _chunks():
    for i in range(3):
        yield f"chunk{i}\n".encode()


@rawhttp
def run(request):
    args = request.args
    # Query switches take precedence over the method: each picks an AMLResponse variant.
    if "status" in args:
        n = int(args["status"])
        return AMLResponse({"status": n}, n, json_str=True)
    if "headers" in args:
        return AMLResponse("with headers", 200, {"X-Multi": "a, b",
                                                 "Access-Control-Allow-Origin": "https://example.com"})
    if "stream" in args:
        return AMLResponse(_chunks(), 200, {"Content-Type": "text/plain"})
    if "none" in args:
        return AMLResponse(None, 204)

    if request.method == "GET":
        return AMLResponse({
            "method": "GET",
            "path": request.path,
            "full_path": request.full_path,
            "args": args.to_dict(flat=False),
            "custom_header": request.headers.get("X-Custom-Header"),
            "cookies": request.cookies.to_dict(),
        }, 200, json_str=True)

    if request.method == "POST":
        if args.get("echo") == "bytes":
            return AMLResponse(request.get_data(), 200, {"Content-Type": "image/jpeg"})
        if request.mimetype == "multipart/form-data":
            return {
                "form": request.form.to_dict(flat=False),
                "files": [_describe_file(field, f) for field, f in request.files.items(multi=True)],
            }
        if request.mimetype in BINARY_TYPES:
            body = request.get_data()
            return {"content_type": request.mimetype, "length": len(body), "sha256": _sha(body)}
        if request.is_json:
            return {"json": request.get_json()}

    # Everything else (other methods, other POST bodies) is a plain dict the server wraps as JSON.
    body = request.get_data()
    return {"method": request.method, "content_type": request.content_type, "length": len(body)}
