"""Local servers that speak the platforms' APIs, for tests, the e2e harness and `make run`.

Each is a real HTTP server on a free port (uvicorn), run in the test's event loop (`async with`) or in a
thread of its own (`start()` / `stop()`, for synchronous harnesses). Each keeps every request it got
(`requests`, refusals included) and every call it carried out (`calls`), answers the calls the executor
makes in the documented shapes, and can be told to answer the next calls with a documented failure
(`fail_next(...)`; the ready-made ones are below each fake). Only the platform is faked, never our code.

Which public documentation the shapes follow is said in each class; where a platform documents a
limit but not the exact error it answers, the fake says which error it uses.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import uvicorn
from socialops_common.devstack import free_port
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass(frozen=True)
class ScriptedAnswer:
    """A failure to answer instead of carrying out the call."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> Response:
        if self.body is None:
            return Response(status_code=self.status, headers=self.headers)
        return JSONResponse(self.body, status_code=self.status, headers=self.headers)


@dataclass
class FakePlatform:
    """What the three fakes share: recording, scripted failures, slowness, running."""

    calls: list[dict] = field(default_factory=list)  # carried out: what the platform now shows
    requests: list[dict] = field(default_factory=list)  # every request, refused or not
    fail_first: int = 0  # answer this many requests with the platform's 5xx first (to test retries)
    delay_s: float = 0.0  # how long each call takes (to see calls overlap, or a client time out)
    in_flight: int = 0
    max_in_flight: int = 0
    port: int = field(default_factory=free_port)
    _script: list[ScriptedAnswer] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _server: uvicorn.Server | None = None
    _task: asyncio.Task | None = None
    _thread: threading.Thread | None = None

    base_path: ClassVar[str] = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.base_path}"

    def fail_next(self, *answers: ScriptedAnswer) -> None:
        """Answer the next requests (in order, one each) with these failures."""
        self._script.extend(answers)

    def next_id(self) -> str:
        return str(next(self._ids))

    def called(self, method: str, path: str) -> list[dict]:
        return [c for c in self.calls if c["method"] == method and c["path"] == path]

    def brief(self) -> list[dict]:
        """The calls carried out, as tests usually compare them: method, path, form body, token."""
        return [{"method": c["method"], "path": c["path"], "data": c["data"], "token": c["token"]} for c in self.calls]

    # --- what a platform fills in ------------------------------------------------------------------

    def routes(self) -> list[Route]:
        raise NotImplementedError

    def token_of(self, request: Request, form: dict[str, str]) -> str | None:
        authorization = request.headers.get("authorization", "")
        return authorization[7:] if authorization.lower().startswith("bearer ") else None

    def refusal(self, call: dict) -> Response | None:
        """Refuse a request the platform would refuse (no token, missing headers); None to go on."""
        return None

    def server_error(self) -> ScriptedAnswer:
        return ScriptedAnswer(503, {"title": "Service Unavailable", "status": 503})

    # --- the shared part ------------------------------------------------------------------------------

    async def serve(self, request: Request, respond: Callable[[dict], Response]) -> Response:
        body = await request.body()
        form: dict[str, str] = {}
        payload: Any = None
        if body and request.headers.get("content-type", "").startswith("application/json"):
            payload = json.loads(body)
        elif body:
            form = dict(parse_qsl(body.decode()))
        query = dict(request.query_params)
        token = self.token_of(request, form)
        form.pop("access_token", None)
        query.pop("access_token", None)
        call = {
            "method": request.method,
            "path": request.url.path.removeprefix(self.base_path),
            "raw_path": request.scope.get("raw_path", b"").decode(),  # as sent: percent-encoding kept
            "raw_query": request.scope.get("query_string", b"").decode(),
            "query": query,
            "data": form,
            "json": payload,
            "token": token,
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "path_params": dict(request.path_params),
        }
        self.requests.append(call)
        refused = self.refusal(call)
        if refused is not None:
            return refused
        if self._script:
            return self._script.pop(0).response()
        if self.fail_first > 0:
            self.fail_first -= 1
            return self.server_error().response()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self.calls.append(call)  # the platform acts on arrival; the answer may be slow
        try:
            await asyncio.sleep(self.delay_s)
        finally:
            self.in_flight -= 1
        return respond(call)

    def route(self, path: str, respond: Callable[[dict], Response], methods: list[str]) -> Route:
        async def endpoint(request: Request) -> Response:
            return await self.serve(request, respond)

        return Route(self.base_path + path, endpoint, methods=methods)

    def _server_for(self) -> uvicorn.Server:
        app = Starlette(routes=self.routes())
        return uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                             lifespan="off"))

    async def __aenter__(self) -> FakePlatform:
        from socialops_common.testing import wait_until

        self._server = self._server_for()
        self._task = asyncio.create_task(self._server.serve())
        await wait_until(lambda: self._server.started, timeout=10, interval=0.02)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server and self._task
        self._server.should_exit = True
        await self._task

    def start(self) -> FakePlatform:
        """Run in a thread of its own (for harnesses that are not async)."""
        self._server = self._server_for()
        self._thread = threading.Thread(target=self._server.run, name=type(self).__name__, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"{type(self).__name__} did not start on port {self.port}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server and self._thread:
            self._server.should_exit = True
            self._thread.join(10)


# --- Meta: Graph API ---------------------------------------------------------------------------------


def graph_error(code: int, message: str, *, subcode: int | None = None, status: int = 400,
                headers: dict[str, str] | None = None, transient: bool = False) -> ScriptedAnswer:
    """The Graph API's error body (developers.facebook.com/docs/graph-api/guides/error-handling)."""
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code,
                             "is_transient": transient, "fbtrace_id": "AbCdEfGhIjK"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return ScriptedAnswer(status, {"error": error}, headers or {})


# Messenger Platform error codes (developers.facebook.com/docs/messenger-platform/error-codes).
GRAPH_OUTSIDE_WINDOW = graph_error(10, "(#10) This message is sent outside of allowed window.", subcode=2018278)
GRAPH_TOKEN_EXPIRED = graph_error(
    190, "Error validating access token: Session has expired on Tuesday, 01-Dec-26 09:00:00 PST.", subcode=463)
_THROTTLING = {  # code → (HTTP status, message); Meta answers throttling with 400 or 403, the code says which
    4: (400, "(#4) Application request limit reached"),
    17: (400, "(#17) User request limit reached"),
    32: (403, "(#32) Page request limit reached"),
    613: (400, "(#613) Calls to this api have exceeded the rate limit."),
}


def graph_rate_limit(code: int, *, minutes: int = 0, page_id: str = "104857600000001") -> ScriptedAnswer:
    """A throttling error with the `X-Business-Use-Case-Usage` header Meta sends with Page tokens
    (developers.facebook.com/docs/graph-api/overview/rate-limiting): `estimated_time_to_regain_access`
    is in minutes."""
    status, message = _THROTTLING[code]
    usage = {page_id: [{"type": "pages", "call_count": 100, "total_cputime": 38, "total_time": 42,
                        "estimated_time_to_regain_access": minutes}]}
    return graph_error(code, message, status=status, headers={"X-Business-Use-Case-Usage": json.dumps(usage)})


@dataclass
class FakeGraphApi(FakePlatform):
    """Speaks the Graph API calls of actions/graph.py, as Meta documents them:

    POST   /{comment-id}                is_hidden / hide (hide, unhide)        → {"success": true}
    DELETE /{comment-id}                                                       → {"success": true}
    POST   /{page-id}/blocked           user=…                                 → {"success": true}
    POST   /{comment-id}/comments       message=… (Page comment reply)        → {"id": "<comment>_<n>"}
    POST   /{ig-comment-id}/replies     message=… (Instagram reply)           → {"id": "<n>"}
    POST   /{comment-id}/likes                                                 → {"success": true}
    POST   /{page-or-ig-id}/messages    {"recipient": {"id" | "comment_id"}, "message": {"text"}} (Send API,
                                        Private Replies) → {"recipient_id", "message_id"}
    The token goes in `access_token` (form or query); without one Meta answers code 104, with one listed in
    `expired_tokens` code 190. A second Private Reply to the same comment is refused: Meta documents "only
    one message can be sent" but not the error, so the fake answers code 10 as for a closed window.
    """

    expired_tokens: set[str] = field(default_factory=set)
    base_path: ClassVar[str] = "/v21.0"

    def token_of(self, request: Request, form: dict[str, str]) -> str | None:
        return form.get("access_token") or request.query_params.get("access_token")

    def refusal(self, call: dict) -> Response | None:
        if not call["token"]:
            return graph_error(104, "An access token is required to request this resource.").response()
        if call["token"] in self.expired_tokens:
            return GRAPH_TOKEN_EXPIRED.response()
        return None

    def server_error(self) -> ScriptedAnswer:
        return graph_error(2, "Service temporarily unavailable", status=500, transient=True)

    def routes(self) -> list[Route]:
        def success(_: dict) -> Response:
            return JSONResponse({"success": True})

        def comment(call: dict) -> Response:
            if not call["data"].get("message"):
                return graph_error(100, "(#100) Missing message or attachment").response()
            node = call["path_params"]["node_id"]
            return JSONResponse({"id": f"{node.split('_')[0]}_{900000 + int(self.next_id())}"})

        def reply(call: dict) -> Response:
            if not call["data"].get("message"):
                return graph_error(100, "(#100) The parameter message is required").response()
            return JSONResponse({"id": str(17900000000000000 + int(self.next_id()))})

        def message(call: dict) -> Response:
            body = call["json"] or {}
            recipient = body.get("recipient") or {}
            if not (body.get("message") or {}).get("text"):
                return graph_error(100, "(#100) The parameter message is required").response()
            if "comment_id" in recipient:
                earlier = [c for c in self.calls if c is not call and
                           ((c["json"] or {}).get("recipient") or {}).get("comment_id") == recipient["comment_id"]]
                if earlier:
                    self.calls.remove(call)  # refused: nothing was sent
                    return graph_error(10, "(#10) Only one private reply can be sent per comment.").response()
                return JSONResponse({"recipient_id": f"psid-of-{recipient['comment_id']}",
                                     "message_id": f"m_{self.next_id()}"})
            if "id" not in recipient:
                return graph_error(100, "(#100) The parameter recipient is required").response()
            return JSONResponse({"recipient_id": recipient["id"], "message_id": f"m_{self.next_id()}"})

        return [
            self.route("/{node_id}", success, ["POST", "DELETE"]),
            self.route("/{node_id}/blocked", success, ["POST"]),
            self.route("/{node_id}/likes", success, ["POST"]),
            self.route("/{node_id}/comments", comment, ["POST"]),
            self.route("/{node_id}/replies", reply, ["POST"]),
            self.route("/{node_id}/messages", message, ["POST"]),
        ]


# --- X API v2 ------------------------------------------------------------------------------------------


def x_problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> ScriptedAnswer:
    """X API v2's error document (developer.x.com/en/support/x-api/error-troubleshooting)."""
    return ScriptedAnswer(status, {"title": title, "detail": detail, "type": "about:blank", "status": status},
                          headers or {})


X_FORBIDDEN = x_problem(403, "Forbidden", "You are not permitted to perform this action.")
X_UNAUTHORIZED = x_problem(401, "Unauthorized", "Unauthorized")


def x_rate_limited(reset_in_s: float = 0) -> ScriptedAnswer:
    """429 with the rate-limit headers X sends on every answer (docs.x.com/fundamentals/rate-limits)."""
    reset = int(time.time() + reset_in_s)
    return ScriptedAnswer(429, {"errors": [{"code": 88, "message": "Rate limit exceeded"}]},
                          {"x-rate-limit-limit": "50", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)})


@dataclass
class FakeXApi(FakePlatform):
    """Speaks the X API v2 calls of actions/x.py (docs.x.com/x-api: posts/create-post, direct-messages/
    create-dm-message-by-participant-id, posts/hide-replies, users/blocks, posts/likes):

    POST /2/tweets                                  {"text", "reply": {"in_reply_to_tweet_id"}} → 201 {"data": {"id", "text"}}
    POST /2/dm_conversations/with/{id}/messages     {"text"}              → 201 {"data": {"dm_conversation_id", "dm_event_id"}}
    PUT  /2/tweets/{id}/hidden                      {"hidden": bool}      → 200 {"data": {"hidden"}}
    POST /2/users/{id}/blocking                     {"target_user_id"}    → 200 {"data": {"blocking": true}}
    POST /2/users/{id}/likes                        {"tweet_id"}          → 200 {"data": {"liked": true}}
    Every call needs `Authorization: Bearer <user access token>` (401 without).
    """

    def refusal(self, call: dict) -> Response | None:
        return None if call["token"] else X_UNAUTHORIZED.response()

    def routes(self) -> list[Route]:
        def tweet(call: dict) -> Response:
            body = call["json"] or {}
            if not body.get("text"):
                return x_problem(400, "Invalid Request", "One or more parameters to your request was invalid.").response()
            tweet_id = str(1860000000000000000 + int(self.next_id()))
            return JSONResponse({"data": {"id": tweet_id, "text": body["text"], "edit_history_tweet_ids": [tweet_id]}},
                                status_code=201)

        def direct_message(call: dict) -> Response:
            participant = call["path_params"]["participant_id"]
            return JSONResponse({"data": {"dm_conversation_id": f"{participant}-account",
                                          "dm_event_id": str(1870000000000000000 + int(self.next_id()))}},
                                status_code=201)

        def hidden(call: dict) -> Response:
            return JSONResponse({"data": {"hidden": bool((call["json"] or {}).get("hidden"))}})

        def blocking(_: dict) -> Response:
            return JSONResponse({"data": {"blocking": True}})

        def likes(_: dict) -> Response:
            return JSONResponse({"data": {"liked": True}})

        return [
            self.route("/2/tweets", tweet, ["POST"]),
            self.route("/2/dm_conversations/with/{participant_id}/messages", direct_message, ["POST"]),
            self.route("/2/tweets/{tweet_id}/hidden", hidden, ["PUT"]),
            self.route("/2/users/{user_id}/blocking", blocking, ["POST"]),
            self.route("/2/users/{user_id}/likes", likes, ["POST"]),
        ]


# --- LinkedIn Community Management API -------------------------------------------------------------------


def linkedin_error(status: int, code: str, message: str, service_error_code: int,
                   headers: dict[str, str] | None = None) -> ScriptedAnswer:
    """LinkedIn's error body (learn.microsoft.com/linkedin/shared/api-guide/concepts/error-handling)."""
    return ScriptedAnswer(status, {"status": status, "serviceErrorCode": service_error_code, "code": code,
                                   "message": message}, headers or {})


LINKEDIN_FORBIDDEN = linkedin_error(403, "ACCESS_DENIED", "Not enough permissions to access: "
                                    "partnerApiSocialActions.CREATE.20241001", 100)


def linkedin_rate_limited(retry_after_s: int = 0) -> ScriptedAnswer:
    return linkedin_error(429, "TOO_MANY_REQUESTS", "Resource level throttle APPLICATION DAY limit for calls to this "
                          "resource is reached.", 101, {"Retry-After": str(retry_after_s)})


VERSION = re.compile(r"^\d{6}(\.\d{2})?$")


@dataclass
class FakeLinkedInApi(FakePlatform):
    """Speaks the Community Management API calls of actions/linkedin.py (learn.microsoft.com/linkedin/
    marketing/community-management/shares/comments-api and .../reactions-api):

    POST   /rest/socialActions/{urn}/comments              {"actor", "object", "message": {"text"}[, "parentComment"]}
                                                           → 201 {…, "$URN", "id"}, header x-restli-id
    DELETE /rest/socialActions/{urn}/comments/{id}?actor=  → 204
    POST   /rest/reactions?actor=                          {"root", "reactionType"} → 201
    Every call needs `Authorization: Bearer`, `LinkedIn-Version: YYYYMM` and `X-Restli-Protocol-Version:
    2.0.0` (learn.microsoft.com/linkedin/marketing/versioning); without them the fake answers 401 / 400.
    """

    def refusal(self, call: dict) -> Response | None:
        headers = call["headers"]
        if not call["token"]:
            return linkedin_error(401, "EMPTY_ACCESS_TOKEN", "Empty oauth2 access token", 65604).response()
        if not VERSION.match(headers.get("linkedin-version", "")):
            return linkedin_error(400, "VERSION_MISSING", "A version must be present. Please specify a version by "
                                  "adding the LinkedIn-Version header.", 0).response()
        if headers.get("x-restli-protocol-version") != "2.0.0":
            return linkedin_error(400, "ILLEGAL_ARGUMENT", "Rest.li protocol version 2.0.0 is required", 0).response()
        return None

    def routes(self) -> list[Route]:
        def comment(call: dict) -> Response:
            body = call["json"] or {}
            if not ((body.get("message") or {}).get("text") and body.get("actor") and body.get("object")):
                return linkedin_error(422, "UNPROCESSABLE_ENTITY", "actor, object and message.text are required",
                                      0).response()
            comment_id = str(7100000000000000000 + int(self.next_id()))
            post = body["object"]
            urn = f"urn:li:comment:({post},{comment_id})"
            return JSONResponse({**body, "id": comment_id, "$URN": urn,
                                 "created": {"actor": body["actor"], "time": int(time.time() * 1000)}},
                                status_code=201, headers={"x-restli-id": comment_id})

        def delete(call: dict) -> Response:
            if not call["query"].get("actor"):
                return linkedin_error(400, "ILLEGAL_ARGUMENT", "actor is required", 0).response()
            return Response(status_code=204)

        def reaction(call: dict) -> Response:
            body = call["json"] or {}
            actor = call["query"].get("actor")
            if not (actor and body.get("root") and body.get("reactionType")):
                return linkedin_error(422, "UNPROCESSABLE_ENTITY", "actor, root and reactionType are required",
                                      0).response()
            return JSONResponse({"root": body["root"], "reactionType": body["reactionType"]}, status_code=201,
                                headers={"x-restli-id": f"urn:li:reaction:({actor},{body['root']})"})

        return [
            self.route("/rest/socialActions/{urn}/comments", comment, ["POST"]),
            self.route("/rest/socialActions/{urn}/comments/{comment_id}", delete, ["DELETE"]),
            self.route("/rest/reactions", reaction, ["POST"]),
        ]
