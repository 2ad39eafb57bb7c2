"""The HTTP methods each route accepts: owned here once, used by `function_app.py`, the endpoints and `serve`."""

#: Every method the host routes; a function registered without `methods` accepts them all.
ALL_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
#: Methods the AML server routes to `/score` (Flask adds HEAD to GET); any other gets its routing 405.
SCORE_METHODS = ("GET", "POST", "OPTIONS", "HEAD")
#: Methods a schema or plain `run(data)` takes input from (POST body, GET query); raw scripts take any.
INPUT_METHODS = ("GET", "POST")
#: What Flask accepts on a GET-only route (HEAD and OPTIONS added), in the order it lists them in `Allow`.
GET_ROUTE_METHODS = ("GET", "OPTIONS", "HEAD")
