"""The loopback copy of deploy/nginx.conf that `make bench` runs: the documented file is measured.

Only what ties the file to a production host changes: the listen ports (loopback, no IPv6), the
host name, the checkout path, gunicorn's address, the TLS lines (dropped: plain HTTP on the
loopback), and the paths a root-run system nginx writes (pid, logs, cache, temporary files),
which move into a private directory so nginx runs as the current user with no system service.
A second server, a copy of the portal's with its own port and upstream, fronts the reference app
with the same proxy, gzip and timeout settings.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_CONFIG = ROOT / "deploy" / "nginx.conf"
HOST_NAME = "portal.example.go.id"
CHECKOUT = "/srv/portal"
UPSTREAM = "127.0.0.1:8000"
# Directives that only make sense with TLS; commented in the file, dropped here if uncommented.
TLS_LINE = re.compile(r"^\s*(listen\s+\S*443\b|ssl_\w+|http2\s)")


@dataclass(frozen=True)
class Loopback:
    """Where the bench's nginx listens and what it proxies to."""

    portal_port: int  # nginx, portal
    reference_port: int  # nginx, reference app
    portal_upstream: int  # gunicorn, portal
    reference_upstream: int  # gunicorn, reference app
    prefix: Path  # private directory for pid, logs, cache and temporary files
    checkout: Path = ROOT


def loopback_config(text: str, where: Loopback) -> str:
    """deploy/nginx.conf rewritten for the bench (see the module docstring)."""
    prefix = str(where.prefix)
    out: list[str] = []
    for line in text.splitlines():
        code = line.split("#", 1)[0]
        if TLS_LINE.match(code) or re.match(r"^\s*listen\s+\[::\]", code):
            continue
        if re.match(r"^\s*user\s", code):
            # As root, workers would drop to www-data, which may not read the checkout.
            line = f"user {_user_name()};" if os.geteuid() == 0 else ""
        line = re.sub(r"^(\s*listen\s+)80\b", rf"\g<1>127.0.0.1:{where.portal_port}", line)
        out.append(line)
    conf = "\n".join(out) + "\n"
    conf = conf.replace(HOST_NAME, "127.0.0.1")
    conf = conf.replace(CHECKOUT, str(where.checkout))
    conf = conf.replace(f"server {UPSTREAM};", f"server 127.0.0.1:{where.portal_upstream};")
    conf = conf.replace("/run/nginx.pid", f"{prefix}/nginx.pid")
    conf = conf.replace("/var/log/nginx/", f"{prefix}/")
    conf = conf.replace("/var/lib/nginx/", f"{prefix}/cache/")
    temp = "".join(
        f"    {kind}_temp_path {prefix}/tmp-{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = conf.replace("http {\n", "http {\n" + temp, 1)
    return _add_reference_server(conf, where)


def _add_reference_server(conf: str, where: Loopback) -> str:
    """A copy of the portal's server block for the reference app: own port, own upstream."""
    start, end = _server_block(conf, "proxy_pass http://portal;")
    block = conf[start:end]
    block = re.sub(r"(listen\s+127\.0\.0\.1:)\d+", rf"\g<1>{where.reference_port}", block, count=1)
    block = block.replace("proxy_pass http://portal;", "proxy_pass http://fortunes;")
    server = f"server 127.0.0.1:{where.reference_upstream};"
    upstream = f"    upstream fortunes {{\n        {server}\n    }}\n\n"
    return conf[:end] + "\n\n" + upstream + "    " + block.lstrip() + conf[end:]


def _server_block(conf: str, marker: str) -> tuple[int, int]:
    """(start, end) of the uncommented `server { ... }` block that contains `marker`."""
    for match in re.finditer(r"(?m)^[ \t]*server\s*\{", conf):
        depth, i = 0, match.start()
        while i < len(conf):
            if conf[i] == "#":
                i = conf.find("\n", i)
                if i < 0:
                    break
                continue
            if conf[i] == "{":
                depth += 1
            elif conf[i] == "}":
                depth -= 1
                if depth == 0:
                    if marker in conf[match.start() : i + 1]:
                        return match.start(), i + 1
                    break
            i += 1
    raise ValueError(f"no server block with {marker!r} in the nginx configuration")


def _user_name() -> str:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name


def write_config(where: Loopback, source: Path = PRODUCTION_CONFIG) -> Path:
    """Write the loopback configuration into `where.prefix` and make the directories it names."""
    for sub in (
        "cache",
        *(f"tmp-{k}" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")),
    ):
        (where.prefix / sub).mkdir(parents=True, exist_ok=True)
    path = where.prefix / "nginx.conf"
    path.write_text(loopback_config(source.read_text(), where))
    return path


def nginx_command(config: Path, *extra: str) -> list[str]:
    """nginx with its own prefix and configuration (and its own error log from the start)."""
    prefix = str(config.parent)
    return ["nginx", "-p", prefix, "-c", str(config), "-e", f"{prefix}/error.log", *extra]
