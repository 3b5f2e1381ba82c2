"""A loopback stand-in for the Hugging Face Hub: the endpoints `huggingface_hub` calls to create a
repo, pre-upload and commit files, and to download a snapshot back. It stores what arrives so
tests can assert on it; it is a real HTTP server, `huggingface_hub` talks to it unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

TOKEN = "hf_loopback_token"


class HubState:
    def __init__(self) -> None:
        self.repos: dict[str, dict[str, bytes]] = {}  # repo id -> path -> content
        self.commits: dict[str, list[str]] = {}  # repo id -> commit shas
        self.requests: list[str] = []
        self.cards: list[dict] = []  # model-card metadata sent to /api/validate-yaml
        self.drop_next_commits = 0  # close the connection instead of answering (an interrupted push)
        self.datasets: dict[str, dict[str, bytes]] = {}  # dataset repo id -> path -> content (read-only)


class Handler(BaseHTTPRequestHandler):
    state: HubState

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes | dict | None = None, headers: dict | None = None) -> None:
        data = json.dumps(body).encode() if isinstance(body, dict) else (body or b"")
        headers = dict(headers or {})
        default = "application/json" if isinstance(body, dict) else "application/octet-stream"
        ctype = headers.pop("Content-Type", default)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _authorised(self) -> bool:
        if self.headers.get("authorization") != f"Bearer {TOKEN}":
            self._send(401, {"error": "Invalid credentials in Authorization header"})
            return False
        return True

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("content-length", 0)))

    def do_POST(self) -> None:
        self.state.requests.append(f"POST {self.path}")
        body = self._body()
        if not self._authorised():
            return
        if self.path == "/api/repos/create":
            req = json.loads(body)
            repo = f"{req['organization']}/{req['name']}" if req.get("organization") else req["name"]
            if repo in self.state.repos:
                return self._send(409, {"error": "You already created this model repo", "url": self._url(repo)})
            self.state.repos[repo] = {}
            self.state.commits[repo] = []
            return self._send(200, {"url": self._url(repo), "name": repo})
        if self.path == "/api/validate-yaml":
            content = json.loads(body)["content"]
            front = content.split("---")[1] if content.startswith("---") else ""
            try:
                meta = yaml.safe_load(front) or {}
            except yaml.YAMLError as err:
                return self._send(400, {"error": f"invalid YAML in README.md: {err}"})
            if not isinstance(meta.get("model-index", []), list):
                return self._send(400, {"error": '"model-index" must be a list'})
            self.state.cards.append(meta)
            return self._send(200, {"errors": [], "warnings": []})
        m = re.fullmatch(r"/api/models/([^/]+/[^/]+)/(preupload|commit)/([^/?]+)", self.path)
        if not m or m.group(1) not in self.state.repos:
            return self._send(404, {"error": f"Repository not found: {self.path}"})
        repo, action = m.group(1), m.group(2)
        if action == "preupload":
            files = json.loads(body)["files"]
            return self._send(
                200,
                {"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]},
            )
        if self.state.drop_next_commits:
            self.state.drop_next_commits -= 1
            self.close_connection = True
            self.connection.shutdown(2)
            return
        files = {}
        for line in body.splitlines():
            item = json.loads(line)
            if item["key"] == "file":
                value = item["value"]
                files[value["path"]] = base64.b64decode(value["content"])
        self.state.repos[repo].update(files)
        sha = hashlib.sha1(json.dumps(sorted(self.state.repos[repo])).encode() + body).hexdigest()
        self.state.commits[repo].append(sha)
        return self._send(200, {"commitUrl": f"{self._url(repo)}/commit/{sha}", "commitOid": sha})

    def _entries(self, files: dict[str, bytes], under: str = "") -> list[dict]:
        folders = sorted({"/".join(p.split("/")[: i + 1]) for p in files for i in range(p.count("/"))})
        entries = [{"type": "directory", "path": d, "oid": "0" * 40, "size": 0} for d in folders]
        for path, content in sorted(files.items()):
            blob = hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()
            entries.append({"type": "file", "path": path, "size": len(content), "oid": blob})
        return [e for e in entries if not under or e["path"].startswith(under.rstrip("/") + "/")]

    def _dataset_get(self) -> bool:
        """The read side of dataset repos, as `datasets.load_dataset` asks for it."""
        path = self.path.split("?")[0]
        m = re.fullmatch(r"/api/datasets/([^/]+/[^/]+)(?:/revision/([^/]+))?", path)
        if m and m.group(1) in self.state.datasets:
            files = self.state.datasets[m.group(1)]
            siblings = [{"rfilename": p, "size": len(c)} for p, c in sorted(files.items())]
            self._send(200, {"id": m.group(1), "sha": "d" * 40, "siblings": siblings, "private": False})
            return True
        m = re.fullmatch(r"/api/datasets/([^/]+/[^/]+)/tree/([^/]+)/?(.*)", path)
        if m and m.group(1) in self.state.datasets:
            body = json.dumps(self._entries(self.state.datasets[m.group(1)], m.group(3))).encode()
            self._send(200, body, {"Content-Type": "application/json"})
            return True
        m = re.fullmatch(r"/datasets/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path)
        if m and m.group(1) in self.state.datasets and m.group(3) in self.state.datasets[m.group(1)]:
            content = self.state.datasets[m.group(1)][m.group(3)]
            headers = {"X-Repo-Commit": "d" * 40, "ETag": f'"{hashlib.sha1(content).hexdigest()}"'}
            self._send(200, content, headers)
            return True
        return False

    def do_GET(self) -> None:
        self.state.requests.append(f"{self.command} {self.path}")
        if self._dataset_get():
            return
        m = re.fullmatch(r"/api/models/([^/]+/[^/]+)(?:/revision/([^/?]+))?(\?.*)?", self.path)
        if m:
            repo = m.group(1)
            if repo not in self.state.repos:
                return self._send(404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"})
            sha = self.state.commits[repo][-1]
            siblings = [{"rfilename": p, "size": len(c)} for p, c in sorted(self.state.repos[repo].items())]
            return self._send(200, {"id": repo, "modelId": repo, "sha": sha, "siblings": siblings, "private": False})
        m = re.fullmatch(r"/api/models/([^/]+/[^/]+)/tree/([^/?]+)(\?.*)?", self.path)
        if m and m.group(1) in self.state.repos:
            body = json.dumps(self._entries(self.state.repos[m.group(1)])).encode()
            return self._send(200, body, {"Content-Type": "application/json"})
        m = re.fullmatch(r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", self.path)
        if m and m.group(1) in self.state.repos and m.group(3) in self.state.repos[m.group(1)]:
            repo, path = m.group(1), m.group(3)
            content = self.state.repos[repo][path]
            headers = {
                "X-Repo-Commit": self.state.commits[repo][-1],
                "ETag": f'"{hashlib.sha1(content).hexdigest()}"',
            }
            return self._send(200, content, headers)
        return self._send(404, {"error": f"not found: {self.path}"}, {"X-Error-Code": "EntryNotFound"})

    do_HEAD = do_GET

    def _url(self, repo: str) -> str:
        return f"http://{self.headers['host']}/{repo}"


def start_hub() -> tuple[ThreadingHTTPServer, HubState, str]:
    state = HubState()
    handler = type("BoundHandler", (Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, state, f"http://127.0.0.1:{server.server_address[1]}"
