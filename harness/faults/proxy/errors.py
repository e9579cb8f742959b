"""The control API's error table (Toxiproxy ``api.go``): one error type, named instances, each with its status."""

from __future__ import annotations


class ApiError(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def with_detail(self, detail: str) -> ApiError:
        return ApiError(f"{self.message}: {detail}", self.status)

    def as_json(self) -> dict[str, object]:
        return {"error": self.message, "status": self.status}


BAD_BODY = ApiError("bad request body", 400)
BAD_TOXIC = ApiError("invalid toxic", 400)
UPSTREAM_REFUSED = ApiError("upstream refused", 400)
PROXY_NOT_FOUND = ApiError("proxy not found", 404)
TOXIC_NOT_FOUND = ApiError("toxic not found", 404)
PROXY_EXISTS = ApiError("proxy already exists", 409)
TOXIC_EXISTS = ApiError("toxic already exists", 409)
