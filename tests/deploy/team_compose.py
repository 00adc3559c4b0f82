"""docker-compose.yml read as the compose tool reads it, each service turned into a process on this host.

No container engine runs here, so the test reads the file and the Dockerfile and runs each
service's own entrypoint and command with its own environment, translated the way a container
would see the world, and nothing else:

- interpolation of `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`,
  `${VAR:+alt}` and `$$` from an .env made from `.env.example` (empty values count as unset for `:-`);
- the image's ENV, ENTRYPOINT and CMD from the Dockerfile (a service's `entrypoint` drops the CMD);
- network: `<service>:<port>` (the compose network's DNS) becomes 127.0.0.1 and that service's host
  port; a listening `--host 0.0.0.0` becomes 127.0.0.1 and its `--port` a free port (loopback only);
- file system: named volumes become folders shared by the services that mount them, tmpfs and
  the image's own folders (data, runtime, HOME, /tmp) become private folders per service;
- `hybridcost` on PATH is this checkout (the image's `pip install .`).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tests_support import REPO_ROOT

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
# the libfaketime run of the suite (.ci/any-date) keeps every process on the test's clock
# libfaketime's settings (`.ci/any-date`): FAKETIME_SHARED names the shared clock the `faketime` wrapper made, so a
# service started later runs on the test's clock, not on one of its own restarted at the faked start.
PASS_THROUGH = ("LD_PRELOAD", "TZ")
PASS_THROUGH_PREFIX = "FAKETIME"
_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


class ComposeError(ValueError):
    """The compose file cannot be interpolated with the given .env (a required variable is unset)."""


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a compose .env (comments and blank lines skipped, optional quotes removed)."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Compose's variable substitution on one string."""
    def one(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        op, arg = match.group(2), match.group(3) or ""
        value = env.get(name)
        if op is None:
            return value or ""
        unset = value is None or (op.startswith(":") and value == "")
        if op.endswith("-"):
            return interpolate(arg, env) if unset else value
        if op.endswith("?"):
            if unset:
                raise ComposeError(f"{name}: {interpolate(arg, env) or 'required variable is missing'}")
            return value
        return "" if unset else interpolate(arg, env)  # :+ / +

    return _VAR.sub(one, text)


def _interpolate_tree(node, env: Mapping[str, str]):
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [_interpolate_tree(item, env) for item in node]
    if isinstance(node, dict):
        return {key: _interpolate_tree(value, env) for key, value in node.items()}
    return node


def load_compose(env: Mapping[str, str], path: Path = COMPOSE_FILE) -> dict:
    """The compose file with YAML anchors merged and every string interpolated from `env`."""
    return _interpolate_tree(yaml.safe_load(path.read_text()), env)


@dataclass(frozen=True)
class Image:
    """What the Dockerfile gives every app container."""

    env: dict[str, str]
    entrypoint: list[str]
    cmd: list[str]


def read_dockerfile(path: Path = DOCKERFILE) -> Image:
    """ENV (key=value form, continued lines), ENTRYPOINT and CMD (exec form) of the final stage."""
    text = re.sub(r"\\\n", " ", path.read_text())
    env: dict[str, str] = {}
    entrypoint: list[str] = []
    cmd: list[str] = []
    for line in text.splitlines():
        word, _, rest = line.strip().partition(" ")
        if word == "FROM":
            env, entrypoint, cmd = {}, [], []
        elif word == "ENV":
            env.update(item.split("=", 1) for item in shlex.split(rest))
        elif word == "ENTRYPOINT":
            entrypoint = json.loads(rest)
        elif word == "CMD":
            cmd = json.loads(rest)
    return Image(env=env, entrypoint=entrypoint, cmd=cmd)


@dataclass
class HostProcess:
    """One compose service as a process on this host: argv, environment, working folder, ports."""

    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    ports: dict[int, int] = field(default_factory=dict)  # container port -> host port on 127.0.0.1
    healthcheck: list[str] | None = None


def _as_list(value) -> list[str]:
    if value is None:
        return []
    return shlex.split(value) if isinstance(value, str) else [str(v) for v in value]


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def _container_port(spec) -> int:
    """The container side of a `ports:` entry ("host:port:container", "port:container" or a mapping)."""
    if isinstance(spec, dict):
        return int(spec["target"])
    return int(str(spec).split("/")[0].rsplit(":", 1)[-1])


class HostTranslator:
    """Turns services of one interpolated compose file into host processes under `root`."""

    def __init__(self, compose: dict, image: Image, root: Path, *, service_ports: Mapping[str, Mapping[int, int]]):
        self.compose, self.image, self.root = compose, image, root
        self.service_ports = {name: dict(ports) for name, ports in service_ports.items()}

    def _folder(self, *parts: str) -> Path:
        path = self.root.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path

    def _paths(self, name: str, service: dict) -> dict[str, Path]:
        """Container path -> host folder for this service (volumes shared, everything else private)."""
        paths: dict[str, Path] = {}
        for spec in service.get("volumes") or []:
            source, target = (spec["source"], spec["target"]) if isinstance(spec, dict) else spec.split(":")[:2]
            if source.startswith((".", "/")):
                paths[target] = (REPO_ROOT / source).resolve()
            else:
                paths[target] = self._folder("volumes", source)
        for target in _as_list(service.get("tmpfs")):
            target = target.split(":")[0]
            paths.setdefault(target, self._folder(name, "tmpfs", target.strip("/")))
        for value in self.image.env.values():
            if value.startswith("/"):
                paths.setdefault(value, self._folder(name, "fs", value.strip("/")))
        paths.setdefault("/home/hybridcost", self._folder(name, "fs", "home"))
        return paths

    def _network(self, text: str, name: str) -> str:
        """`<service>:<port>` to 127.0.0.1:<host port>; the service's own 127.0.0.1:<port> likewise."""
        for other, ports in self.service_ports.items():
            for inner, outer in ports.items():
                text = re.sub(rf"(?<![\w.-]){re.escape(other)}:{inner}(?!\d)", f"127.0.0.1:{outer}", text)
        for inner, outer in self.service_ports.get(name, {}).items():
            text = re.sub(rf"(?<![\w.]){re.escape('127.0.0.1')}:{inner}(?!\d)", f"127.0.0.1:{outer}", text)
        return text

    def _translate(self, text: str, name: str, paths: dict[str, Path]) -> str:
        # one pass, longest path first, so a host folder put in is never translated again
        alternatives = "|".join(re.escape(p) for p in sorted(paths, key=len, reverse=True))
        text = re.sub(rf"(?<![\w/.-])({alternatives})(?=$|[/\s\"';:)])", lambda m: str(paths[m.group(1)]), text)
        return self._network(text, name)

    def _argv(self, name: str, service: dict, paths: dict[str, Path]) -> list[str]:
        entrypoint = _as_list(service["entrypoint"]) if "entrypoint" in service else list(self.image.entrypoint)
        command = _as_list(service["command"]) if "command" in service else (
            [] if "entrypoint" in service else list(self.image.cmd))
        argv = [self._translate(a, name, paths) for a in entrypoint + command]
        ports = self.service_ports.get(name, {})
        out: list[str] = []
        for i, arg in enumerate(argv):
            if i and argv[i - 1] == "--host" and arg == "0.0.0.0":
                arg = "127.0.0.1"  # loopback only: a container's 0.0.0.0 is its own network namespace
            elif i and argv[i - 1] == "--port" and arg.isdigit() and int(arg) in ports:
                arg = str(ports[int(arg)])
            out.append(arg)
        return out

    def process(self, name: str, *, shims: Path, extra_env: Mapping[str, str] | None = None) -> HostProcess:
        """The host process for service `name`, with `shims` first on PATH; `extra_env` is what the test adds."""
        service = self.compose["services"][name]
        paths = self._paths(name, service)
        env = {k: self._translate(v, name, paths) for k, v in {**self.image.env, **_environment(service)}.items()}
        env.update(PATH=f"{shims}:{os.environ.get('PATH', '/usr/bin:/bin')}", PYTHONPATH=str(REPO_ROOT),
                   HOME=str(paths["/home/hybridcost"]), LANG="C.UTF-8")
        env.update({k: v for k, v in os.environ.items() if k in PASS_THROUGH or k.startswith(PASS_THROUGH_PREFIX)})
        env.update(extra_env or {})
        health = service.get("healthcheck") or {}
        test = _as_list(health.get("test")) if not health.get("disable") else []
        healthcheck = [self._translate(a, name, paths) for a in test[1:]] if test[:1] == ["CMD"] else None
        return HostProcess(name=name, argv=self._argv(name, service, paths), env=env,
                           cwd=paths["/home/hybridcost"], ports=self.service_ports.get(name, {}),
                           healthcheck=healthcheck)


def published_ports(compose: dict) -> dict[str, list[int]]:
    """Container ports each service publishes (`ports:`)."""
    return {name: [_container_port(p) for p in service.get("ports") or []]
            for name, service in compose["services"].items()}


def write_shims(folder: Path, *, gpu_host: bool = False) -> Path:
    """A `hybridcost` on PATH that runs this checkout (with `gpu_host`: on the fake GPU host)."""
    folder.mkdir(parents=True, exist_ok=True)
    module = "tests.deploy.team_gpu_host" if gpu_host else "app.cli.main"
    code = (f"import sys; sys.path.insert(0, {str(REPO_ROOT)!r}); sys.argv[0] = 'hybridcost'; "
            f"from {module} import main; main()")
    script = folder / "hybridcost"
    script.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -c {shlex.quote(code)} \"$@\"\n")
    script.chmod(0o755)
    return folder
