"""A small client for the chaos proxy's control API (works with Toxiproxy's API too: same routes and bodies).

Every call has a timeout (Toxiproxy issues #159, #254 and #558: removing toxics under traffic can hang), and
every failure becomes a :class:`~ground.errors.FaultError` naming the call, so a fault action never fails
silently.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

from ground.errors import FaultError


class ProxyClient:
    def __init__(self, base_url: str = "http://127.0.0.1:8474", *, timeout_s: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout_s, trust_env=False)

    def _call(self, method: str, path: str, *, json: Any = None, ok: tuple[int, ...] = (200, 201, 204)) -> Any:
        try:
            response = self._http.request(method, path, json=json)
        except httpx.HTTPError as exc:
            raise FaultError(f"chaos proxy API {method} {self.base_url}{path} failed: {type(exc).__name__}") from exc
        if response.status_code not in ok:
            try:
                message = response.json().get("error", response.text)
            except ValueError:
                message = response.text
            raise FaultError(f"chaos proxy API {method} {path} answered {response.status_code}: {message}")
        return response.json() if response.content and response.status_code != 204 else None

    def version(self) -> str:
        return str(self._call("GET", "/version")["version"])

    def proxies(self) -> dict[str, Any]:
        return dict(self._call("GET", "/proxies"))

    def create_proxy(self, name: str, listen: str, upstream: str, *, enabled: bool = True) -> dict[str, Any]:
        body = {"name": name, "listen": listen, "upstream": upstream, "enabled": enabled}
        return dict(self._call("POST", "/proxies", json=body))

    def proxy(self, name: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/proxies/{name}"))

    def delete_proxy(self, name: str) -> None:
        self._call("DELETE", f"/proxies/{name}")

    def set_enabled(self, proxy: str, enabled: bool) -> None:
        self._call("POST", f"/proxies/{proxy}", json={"enabled": enabled})

    def toxics(self, proxy: str) -> list[dict[str, Any]]:
        return list(self._call("GET", f"/proxies/{proxy}/toxics"))

    def add_toxic(self, proxy: str, toxic: dict[str, Any]) -> dict[str, Any]:
        return dict(self._call("POST", f"/proxies/{proxy}/toxics", json=toxic))

    def update_toxic(self, proxy: str, toxic: str, changes: dict[str, Any]) -> dict[str, Any]:
        return dict(self._call("POST", f"/proxies/{proxy}/toxics/{toxic}", json=changes))

    def remove_toxic(self, proxy: str, toxic: str, *, missing_ok: bool = False) -> None:
        self._call("DELETE", f"/proxies/{proxy}/toxics/{toxic}", ok=(204, 404) if missing_ok else (204,))

    def reset(self) -> None:
        self._call("POST", "/reset")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ProxyClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
