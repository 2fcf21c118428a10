"""Item calls without botocore's request pipeline (DYNAMODB_LEAN_CALLS).

botocore spent about 0.5 ms of CPU on a GetItem besides the wire (docs/benchmarks.md): a shape
walk, the endpoint rules, a general SigV4 signer, the user agent and a dozen events, on every call;
an enroll makes three. For the item operations `LeanCaller` does the same in 0.2 ms, on botocore's
private methods (botocore is pinned; the tests compare both paths, so an upgrade shows there):

- ours: the JSON body (orjson), the SigV4 signature (signing.py; the tests check it against
  botocore's, byte for byte), the headers, and the endpoint, resolved by botocore's rules once per
  operation and account;
- botocore's: the parameters' events (before-parameter-build gives a transaction its idempotency
  token), before-call, before-send, needs-retry and after-call with their handlers (the adaptive
  rate limiter, the retry quota, our observers), the HTTP session (transport.py), the parse
  (responses.py), the errors' classes, and the retries: its handlers judge each attempt as in its
  Endpoint._send_request, and a retried attempt is signed again with the same body and token.

A signature DynamoDB finds wrong sends the call, and every later one, through botocore (a safety
net). Other operations, binary values (botocore encodes them), tables named by ARN, handlers that
change what is signed, and endpoints needing other headers or signing are botocore's too.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import orjson
from botocore.auth import _host_from_url

from courseproject.dynamo.signing import CONTENT_TYPE, SigningKeys, sigv4_authorization

logger = logging.getLogger(__name__)

# The operations of items and their pages; the tables' own (CreateTable, DescribeTable, ...) stay botocore's.
LEAN_OPERATIONS = frozenset(
    {
        "BatchGetItem",
        "BatchWriteItem",
        "DeleteItem",
        "GetItem",
        "PutItem",
        "Query",
        "TransactGetItems",
        "TransactWriteItems",
        "UpdateItem",
    }
)


class _Request:
    """The request as botocore's before-send handlers and the HTTP session read it."""

    __slots__ = ("body", "context", "headers", "method", "stream_output", "url")

    def __init__(self, url: str, headers: dict[str, str], body: bytes, context: dict[str, Any]) -> None:
        self.url = url
        self.method = "POST"
        self.headers = headers
        self.body = body
        self.stream_output = False
        self.context = context  # the call's: a per-call read timeout lives there


class _Endpoint:
    """Where an operation's calls go and how they are signed, as botocore's rules resolved them."""

    __slots__ = ("host", "lean", "region", "service", "url")

    def __init__(self, url: str, *, lean: bool, region: str, service: str) -> None:
        parts = urlsplit(url)
        self.url = url.rstrip("/") + "/"  # botocore's request URL: the endpoint and the operation's path, "/"
        self.host = _host_from_url(url)
        # A path or a query on the endpoint (a proxy's prefix) changes the canonical request: botocore's.
        self.lean = lean and parts.path in ("", "/") and not parts.query
        self.region = region
        self.service = service


class LeanCaller:
    """Takes the place of the shared client's `_make_api_call` (client.py installs it)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._botocore_call = client._make_api_call
        self._service_id = client._service_model.service_id.hyphenize()
        self._target_prefix = client._service_model.metadata["targetPrefix"]
        self._events = client.meta.events
        self._user_agent = client._user_agent_creator.to_string()
        self._endpoints: dict[tuple[str, str | None], _Endpoint] = {}
        self._signing_keys = SigningKeys()
        self._signature_refused = False

    def __call__(self, operation_name: str, api_params: dict[str, Any]) -> dict[str, Any]:
        credentials = self._client._request_signer._credentials
        frozen = credentials.get_frozen_credentials() if credentials is not None else None
        account_id = getattr(frozen, "account_id", None)
        # Decided before any event runs, so that a call botocore makes emits each event once (but for
        # binary values, which only the body's encoding finds and no model of ours has).
        if not self._may_go_lean(operation_name, api_params, frozen, account_id):
            return self._botocore_call(operation_name, api_params)
        operation_model = self._client._service_model.operation_model(operation_name)
        request_context: dict[str, Any] = {
            "client_region": self._client.meta.region_name,
            "client_config": self._client.meta.config,
            "has_streaming_input": False,
            "auth_type": operation_model.resolved_auth_type,
            "unsigned_payload": operation_model.unsigned_payload,
            "auth_options": self._client._service_model.metadata.get("auth"),
        }
        api_params = self._client._emit_api_params(
            api_params=api_params, operation_model=operation_model, context=request_context
        )
        # An operation's first call resolves its endpoint; if botocore must sign there, this call's
        # parameters' events run again in botocore, and later calls go to botocore at once.
        endpoint = self._endpoint(operation_model, api_params, request_context, account_id)
        try:
            body = orjson.dumps(api_params)
        except TypeError:  # binary values (bytes): botocore's serializer encodes them; its events run again
            endpoint, body = None, b""
        answer = self._send(operation_model, endpoint, frozen, body, request_context) if endpoint else None
        if answer is None:
            return self._botocore_call(operation_name, api_params)
        http_response, parsed = answer
        self._events.emit(
            f"after-call.{self._service_id}.{operation_name}",
            http_response=http_response,
            parsed=parsed,
            model=operation_model,
            context=request_context,
        )
        if http_response.status_code >= 300:
            raise self._client.exceptions.from_code(parsed.get("Error", {}).get("Code"))(parsed, operation_name)
        return parsed

    def _may_go_lean(
        self, operation_name: str, api_params: dict[str, Any], frozen: Any, account_id: str | None
    ) -> bool:
        if operation_name not in LEAN_OPERATIONS or self._signature_refused or frozen is None or not frozen.access_key:
            return False
        known = self._endpoints.get((operation_name, account_id))
        # botocore's endpoint rules or signer are needed
        return not ((known is not None and not known.lean) or _names_a_table_by_arn(api_params))

    def _endpoint(
        self, operation_model: Any, api_params: dict[str, Any], request_context: dict[str, Any], account_id: str | None
    ) -> _Endpoint | None:
        """The operation's endpoint, resolved by botocore's rules the first time for this account; None
        if botocore must sign its calls."""
        key = (operation_model.name, account_id)
        endpoint = self._endpoints.get(key)
        if endpoint is None:
            context = dict(request_context)
            url, headers, _ = self._client._resolve_endpoint_ruleset(operation_model, api_params, context)
            signing = context.get("signing") or {}
            # No auth type of the operation's or the endpoint's own: the client's signature version.
            auth_type = context.get("auth_type") or self._client._request_signer.signature_version
            lean = not headers and auth_type in ("v4", "sigv4")
            endpoint = _Endpoint(
                url,
                lean=lean,
                region=signing.get("region") or self._client._request_signer._region_name,
                service=signing.get("signing_name") or self._client._service_model.signing_name,
            )
            self._endpoints[key] = endpoint  # one assignment: threads racing here resolve the same
        return endpoint if endpoint.lean else None

    def _send(
        self,
        operation_model: Any,
        endpoint: _Endpoint,
        frozen: Any,
        body: bytes,
        request_context: dict[str, Any],
    ) -> tuple[Any, dict[str, Any]] | None:
        """The call, with botocore's retries (as its Endpoint._send_request); its response and parsed
        answer, or None to hand it to botocore."""
        operation_name = operation_model.name
        target = f"{self._target_prefix}.{operation_name}"
        expected_headers = {"X-Amz-Target": target, "Content-Type": CONTENT_TYPE, "User-Agent": self._user_agent}
        request_dict = {
            "url_path": "/",
            "query_string": "",
            "method": "POST",
            "headers": dict(expected_headers),
            "body": body,
            "url": endpoint.url,
            "context": request_context,
        }
        _, event_response = self._events.emit_until_response(
            f"before-call.{self._service_id}.{operation_name}",
            model=operation_model,
            params=request_dict,
            request_signer=self._client._request_signer,
            context=request_context,
        )
        if event_response is not None:  # a handler answered in DynamoDB's place (a test's stub)
            return event_response
        if request_dict["headers"] != expected_headers or request_dict["url"] != endpoint.url:
            return None  # a handler changed what is signed or where it goes: botocore's to send
        try:
            return self._attempts(operation_model, endpoint, frozen, request_dict)
        except Exception as error:  # as botocore's _make_request
            self._events.emit(
                f"after-call-error.{self._service_id}.{operation_name}", exception=error, context=request_context
            )
            raise

    def _attempts(
        self, operation_model: Any, endpoint: _Endpoint, frozen: Any, request_dict: dict[str, Any]
    ) -> tuple[Any, dict[str, Any]] | None:
        request_context, botocore_endpoint, attempts = request_dict["context"], self._client._endpoint, 1
        botocore_endpoint._update_retries_context(request_context, attempts)
        while True:
            answer, exception = self._attempt(operation_model, endpoint, frozen, request_dict)
            if answer is not None and _signature_mismatch(answer[1]):
                self._signature_refused = True
                logger.warning("DynamoDB refused a lean call's signature (%s): botocore signs from now on", answer[1])
                return None
            if not botocore_endpoint._needs_retry(attempts, operation_model, request_dict, answer, exception):
                break
            attempts += 1
            botocore_endpoint._update_retries_context(request_context, attempts, answer)
            frozen = self._client._request_signer._credentials.get_frozen_credentials()
        if exception is not None:
            raise exception
        http_response, parsed = answer
        if "ResponseMetadata" in parsed:
            parsed["ResponseMetadata"]["RetryAttempts"] = attempts - 1
        return http_response, parsed

    def _attempt(
        self, operation_model: Any, endpoint: _Endpoint, frozen: Any, request_dict: dict[str, Any]
    ) -> tuple[tuple[Any, dict[str, Any]] | None, Exception | None]:
        """One attempt, signed now: (response, parsed answer) or the exception, as botocore's
        Endpoint._get_response gives them to the retry handlers."""
        amz_date = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        date = amz_date[:8]
        headers = {**request_dict["headers"], "X-Amz-Date": amz_date}
        if frozen.token:
            headers["X-Amz-Security-Token"] = frozen.token
        headers["Authorization"] = sigv4_authorization(
            access_key=frozen.access_key,
            signing_key=self._signing_keys.key(frozen.secret_key, date, endpoint.region, endpoint.service),
            scope=f"{date}/{endpoint.region}/{endpoint.service}/aws4_request",
            amz_date=amz_date,
            host=endpoint.host,
            target=headers["X-Amz-Target"],
            body=request_dict["body"],
            token=frozen.token,
        )
        request = _Request(endpoint.url, headers, request_dict["body"], request_dict["context"])
        try:
            responses = self._events.emit(f"before-send.{self._service_id}.{operation_model.name}", request=request)
            http_response = next((response for _, response in responses if response is not None), None)
            if http_response is None:
                http_response = self._client._endpoint.http_session.send(request)
        except Exception as error:  # as botocore's: the retry handlers judge it
            return None, error
        response_dict = {
            "headers": http_response.headers,
            "status_code": http_response.status_code,
            "body": http_response.content,
            "context": {"operation_name": operation_model.name},
        }
        parser = self._client._endpoint._response_parser_factory.create_parser("json")
        parsed = parser.parse(response_dict, operation_model.output_shape)
        if http_response.status_code >= 300:
            self._client._endpoint._add_modeled_error_fields(response_dict, parsed, operation_model, parser)
        return (http_response, parsed), None


def _names_a_table_by_arn(api_params: dict[str, Any]) -> bool:
    names = [api_params.get("TableName", "")]
    names += list(api_params.get("RequestItems") or ())
    for item in api_params.get("TransactItems") or ():
        names += [action.get("TableName", "") for action in item.values() if isinstance(action, dict)]
    return any(isinstance(name, str) and name.startswith("arn:") for name in names)


def _signature_mismatch(parsed: dict[str, Any]) -> bool:
    """DynamoDB found this module's signature wrong (not expired: a skewed clock fails botocore's too)."""
    error = parsed.get("Error") or {}
    if error.get("Code") == "IncompleteSignatureException":
        return True
    return error.get("Code") == "InvalidSignatureException" and "does not match" in (error.get("Message") or "")


def install(client: Any) -> None:
    """Route the client's item calls through a LeanCaller."""
    client._make_api_call = LeanCaller(client)
