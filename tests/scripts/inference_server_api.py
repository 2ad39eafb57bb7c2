"""A @rawhttp script importing from azmlinfsrv's own documented path, `azureml_inference_server_http.api`.

Shaped like azmlinfsrv's `valid_score.py` test script: it echoes what it received and answers through
`AMLResponse` with custom response headers (one of them listing two values), or a 500 `AMLResponse` built in its
own `except`. Values that change per run (pids, clocks, uuids) are left out so answers compare byte for byte.
"""
from azureml_inference_server_http.api.aml_request import AMLRequest, rawhttp  # noqa: F401
from azureml_inference_server_http.api.aml_response import AMLResponse


def init():
    print("Initializing")


@rawhttp
def run(request):
    print("A new request received")
    try:
        received = {}
        for name, value in request.headers:
            if name.lower().startswith("x-echo-"):
                received[name] = f"{received[name]}, {value}" if name in received else value
        if "fail" in request.args:
            raise ValueError("asked to fail")
        answer = {
            "method": request.method,
            "args": request.args.to_dict(flat=False),
            "received_headers": received,
            "received_body": request.get_data().decode("utf-8"),
        }
        headers = {"x-ms-run-function-duration": "0.25", "X-Served-By": "inference-server-api", "X-Multi": "a, b"}
        return AMLResponse(answer, 200, headers, json_str=True)
    except Exception as ex:
        return AMLResponse({"error": f"{type(ex).__name__}: {ex}"}, 500, {}, json_str=True)

