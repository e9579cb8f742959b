"""A tiny in-process Graph endpoint for the vendor's unit tests: records sends, answers scripted errors.

The real mock (mocks/whatsapp) is used by the end-to-end tests; this one lets a test script exactly which
call fails with which Graph error, and runs on the test's event loop through ``httpx.ASGITransport``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass
class FakeGraph:
    sent: list[dict[str, Any]] = field(default_factory=list)
    uploads: list[dict[str, Any]] = field(default_factory=list)
    # Errors answered to the next calls, in order: (http status, Graph code).
    script: list[tuple[int, int]] = field(default_factory=list)
    calls: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def app(self) -> Starlette:
        async def messages(request: Request) -> Response:
            self.calls += 1
            if self.script:
                status, code = self.script.pop(0)
                error = {"message": f"(#{code}) scripted", "type": "OAuthException", "code": code}
                return JSONResponse({"error": error}, status_code=status)
            body = await request.json()
            wamid = f"wamid.fake{next(self._ids)}"
            self.sent.append(
                {
                    **body,
                    "_wamid": wamid,
                    "_auth": request.headers.get("authorization"),
                    "_pnid": request.path_params["pnid"],
                }
            )
            return JSONResponse({"messaging_product": "whatsapp", "messages": [{"id": wamid}]})

        async def media(request: Request) -> Response:
            form = await request.form()
            upload = form["file"]
            size = len(await upload.read()) if not isinstance(upload, str) else len(upload)
            media_id = str(900000 + next(self._ids))
            self.uploads.append(
                {"type": form.get("type"), "size": size, "id": media_id, "_pnid": request.path_params["pnid"]}
            )
            return JSONResponse({"id": media_id})

        return Starlette(
            routes=[
                Route("/{version}/{pnid}/messages", messages, methods=["POST"]),
                Route("/{version}/{pnid}/media", media, methods=["POST"]),
            ]
        )

    def transport(self) -> httpx.ASGITransport:
        return httpx.ASGITransport(app=self.app())

    def texts(self) -> list[str]:
        return [item["text"]["body"] for item in self.sent if item.get("type") == "text"]
