"""The deployment files in deploy/ are checked, not just written: the systemd units pass
``systemd-analyze verify`` and start real ``ancrage`` commands with options the CLI accepts,
the nginx example passes ``nginx -t``, and the figures they share with the app agree (body
size vs the import limit, stop timeout vs the scheduler's grace, proxy headers vs PROXY_FIX).

``systemd-analyze`` and ``nginx`` are optional on a developer's machine: those two checks
are skipped, saying so, when the tool is missing (a failure instead under
``REQUIRE_DEPLOY_TOOLS=1``, which CI's .ci/run sets); the static checks always run."""

from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import click
import pytest
from flask.cli import ScriptInfo

from app.cli import ancrage_group
from app.config import DefaultConfig as Config

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = {
    "ancrage-web.service": ["serve"],
    "ancrage-uploads.service": ["serve"],
    "ancrage-scheduler.service": ["scheduler"],
}
INSTALLED_COMMAND = "/opt/ancrage/bin/ancrage"
NGINX_CONF = DEPLOY / "nginx" / "ancrage.conf"
ENV_EXAMPLE = DEPLOY / "ancrage.env.example"


def missing(message: str) -> None:
    if os.environ.get("REQUIRE_DEPLOY_TOOLS") == "1":
        pytest.fail(message + " (REQUIRE_DEPLOY_TOOLS=1)")
    pytest.skip(message)


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(
        interpolation=None, strict=False, empty_lines_in_values=False
    )
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((DEPLOY / "systemd" / name).read_text())
    return parser


def seconds(value: str) -> float:
    """A systemd time span such as ``60s``, ``1min 30s`` or ``90``, in seconds."""
    factors = {"": 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}
    total = 0.0
    for number, suffix in re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", value):
        total += float(number) * factors[suffix]
    return total


def resolve_cli(words: list[str]) -> click.Command:
    """Parse ``ancrage WORDS…`` as the installed command would, without running it: every
    (sub)command must exist and every option must be accepted with a valid value."""
    group = ancrage_group()
    ctx = click.Context(
        group,
        info_name="ancrage",
        obj=ScriptInfo(
            create_app=group.create_app, set_debug_flag=False, load_dotenv_defaults=False
        ),
    )
    command: click.Command = group
    words = list(words)
    while isinstance(command, click.Group):
        assert words, f"{command.name} needs a subcommand"
        name = words.pop(0)
        sub = command.get_command(ctx, name)
        assert sub is not None, f"`ancrage {name}` is not a command of app/cli.py"
        ctx = click.Context(sub, info_name=name, parent=ctx)
        command = sub
    command.parse_args(ctx, words)  # raises click.UsageError on an unknown option or bad value
    return command


@pytest.fixture
def production_environment(tmp_path, monkeypatch):
    """What the units' EnvironmentFile gives the command (the app refuses to start without a
    secret key and a sender outside tests)."""
    monkeypatch.setenv("ANCRAGE_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/ancrage.sqlite3")
    monkeypatch.setenv("SECRET_KEY", "deploy-test-" + "k" * 40)
    monkeypatch.setenv("MAIL_SENDER", "Ancrage <ne-pas-repondre@example.org>")


@pytest.mark.parametrize("name", sorted(UNITS))
def test_units_start_a_real_ancrage_command_with_accepted_options(name, production_environment):
    service = unit(name)["Service"]
    words = shlex.split(service["ExecStart"])
    assert words[0] == INSTALLED_COMMAND
    assert words[1 : 1 + len(UNITS[name])] == UNITS[name]
    command = resolve_cli(words[1:])
    assert command.name == UNITS[name][-1]


def test_a_wrong_command_or_option_would_be_caught(production_environment):
    # The check above can fail: a misspelt command or an unknown option is refused.
    with pytest.raises(AssertionError, match="not a command"):
        resolve_cli(["serveur"])
    with pytest.raises(click.UsageError):
        resolve_cli(["serve", "--port", "8000"])
    with pytest.raises(click.UsageError):
        resolve_cli(["serve", "--workers", "quatre"])


@pytest.mark.parametrize("name", sorted(UNITS))
def test_units_run_as_a_dedicated_user_with_hardening(name):
    service = unit(name)["Service"]
    assert service["User"] == service["Group"] == "ancrage"
    assert service["EnvironmentFile"] == "/etc/ancrage/ancrage.env"
    environment = dict(item.split("=", 1) for item in service["Environment"].split())
    instance = environment["ANCRAGE_INSTANCE_PATH"]
    assert instance == "/var/lib/ancrage"
    # The web workers and the scheduler add up their metrics in one folder they may write.
    assert environment["PROMETHEUS_MULTIPROC_DIR"] == f"{instance}/metrics"
    assert service["Restart"] == "on-failure"
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert instance in service["ReadWritePaths"].split()
    assert service["PrivateTmp"] == "yes"
    assert service["UMask"] == "0077"
    assert service["StateDirectoryMode"] == "0700"


def test_scheduler_stop_timeout_is_above_its_grace():
    service = unit("ancrage-scheduler.service")["Service"]
    grace = Config.SCHEDULER_STOP_GRACE_SECONDS
    assert seconds(service["TimeoutStopSec"]) > grace
    # The example environment file does not raise the grace past the unit's timeout.
    configured = re.search(r"^SCHEDULER_STOP_GRACE_SECONDS=(\d+)", ENV_EXAMPLE.read_text(), re.M)
    assert configured and seconds(service["TimeoutStopSec"]) > int(configured.group(1))
    # A second scheduler exits with status 3 (lock held): restarting it would loop.
    assert "3" in service["RestartPreventExitStatus"].split()


@pytest.mark.parametrize("name", ["ancrage-web.service", "ancrage-uploads.service"])
def test_web_stop_timeout_covers_gunicorn_graceful_shutdown(name):
    service = unit(name)["Service"]
    assert seconds(service["TimeoutStopSec"]) > 30  # gunicorn's default graceful timeout


def serve_option(name: str, option: str) -> str:
    words = shlex.split(unit(name)["Service"]["ExecStart"])
    return words[words.index(option) + 1]


def test_upload_pool_runs_below_the_web_pool_and_hardened_alike():
    web, uploads = (
        unit("ancrage-web.service")["Service"],
        unit("ancrage-uploads.service")["Service"],
    )
    # Niced, a smaller CPU share, a lower best-effort I/O priority (higher number = lower).
    assert int(uploads["Nice"]) == 10 and int(web.get("Nice", "0")) == 0
    assert int(uploads["CPUWeight"]) < int(web["CPUWeight"])
    assert uploads["IOSchedulingClass"] == web["IOSchedulingClass"] == "best-effort"
    assert int(uploads["IOSchedulingPriority"]) > int(web["IOSchedulingPriority"])
    # Its own listening address and pool size.
    assert serve_option("ancrage-uploads.service", "--bind") != serve_option(
        "ancrage-web.service", "--bind"
    )
    for option in ("--workers", "--threads"):
        assert int(serve_option("ancrage-uploads.service", option)) >= 1
    # Everything else (user, environment, folders, hardening, stop) exactly as the web unit.
    own = {"ExecStart", "Nice", "CPUWeight", "IOSchedulingClass", "IOSchedulingPriority"}
    assert {k: v for k, v in uploads.items() if k not in own} == {
        k: v for k, v in web.items() if k not in own
    }
    assert unit("ancrage-uploads.service")["Install"] == unit("ancrage-web.service")["Install"]


def test_example_environment_sets_only_known_settings():
    known = {key for key in dir(Config) if key.isupper()} | {"DATABASE_URL"}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key = line.partition("=")[0]
        assert key in known, f"{key} is not a setting of app/config.py"
        assert not line.startswith("export "), line
    text = ENV_EXAMPLE.read_text()
    assert re.search(r"^PROXY_FIX=true$", text, re.M)
    assert "ANCRAGE_INSTANCE_PATH=" not in text.replace("# ANCRAGE_INSTANCE_PATH", "")


def verify_copies(tmp_path: Path) -> list[Path]:
    """Copies of the units whose ExecStart points at an executable that exists here (the
    ancrage command of this environment if installed, else this Python), everything else
    unchanged: systemd-analyze checks that the program is executable."""
    installed = shutil.which("ancrage") or str(Path(os.sys.executable).parent / "ancrage")
    executable = installed if os.access(installed, os.X_OK) else os.sys.executable
    copies = []
    for name in UNITS:
        text = (DEPLOY / "systemd" / name).read_text()
        assert INSTALLED_COMMAND in text
        copy = tmp_path / name
        copy.write_text(text.replace(INSTALLED_COMMAND, executable))
        copies.append(copy)
    return copies


def test_systemd_analyze_verify(tmp_path):
    tool = shutil.which("systemd-analyze")
    if tool is None:
        missing("systemd-analyze is not installed: the units were not verified")
    result = subprocess.run(
        [tool, "verify", "--man=no", *map(str, verify_copies(tmp_path))],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    output = (result.stdout + result.stderr).strip()
    # Unknown keys and bad values are only warnings (exit 0): any output is a failure.
    assert result.returncode == 0 and not output, output


def test_systemd_analyze_verify_would_catch_a_typo(tmp_path):
    tool = shutil.which("systemd-analyze")
    if tool is None:
        missing("systemd-analyze is not installed: the units were not verified")
    copy = verify_copies(tmp_path)[0]
    copy.write_text(copy.read_text().replace("UMask=", "UMaks="))
    result = subprocess.run([tool, "verify", "--man=no", str(copy)], capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert "UMaks" in result.stdout + result.stderr


def nginx_directives() -> str:
    return "\n".join(line.split("#", 1)[0] for line in NGINX_CONF.read_text().splitlines())


def size_in_bytes(value: str) -> int:
    number, unit_letter = re.fullmatch(r"(\d+)([kKmMgG]?)", value).groups()
    return int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit_letter.lower()]


def test_proxy_lets_the_largest_import_through():
    sizes = re.findall(r"client_max_body_size\s+(\S+);", nginx_directives())
    assert sizes, "client_max_body_size missing: nginx would refuse bodies above 1 MiB"
    limit = Config.RENT_IMPORT_MAX_BYTES
    for size in sizes:
        # The file plus the multipart envelope (boundaries, CSRF token, month field).
        assert size_in_bytes(size) >= limit + 64 * 1024, size


UPLOAD_PATHS = (
    "/menages/12/documents",
    "/menages/12/documents/3/remplacer",
    "/menages/12/visites/nouvelle",
)


def upload_location() -> tuple[str, str]:
    location = re.search(r"location ~ (\S+) \{([^}]*)\}", nginx_directives())
    assert location, "no location for the document uploads"
    return location.groups()


def test_proxy_lets_a_whole_document_upload_through_on_the_upload_routes():
    pattern, body = upload_location()
    for path in UPLOAD_PATHS:
        assert re.match(pattern, path), path
    for path in (
        "/logements/import",
        "/menages/12/documents/3",  # a download
        "/menages/12/documents/3/supprimer",  # a deletion: no file, stays on the web pool
        "/menages/12/visites/nouvelle/../../documents",
    ):
        assert not re.match(pattern, path), path
    size = re.search(r"client_max_body_size\s+(\S+);", body).group(1)
    assert size_in_bytes(size) >= Config.DOCUMENTS_MAX_REQUEST_BYTES + 64 * 1024, size


def test_proxy_sends_only_upload_posts_to_the_upload_pool():
    directives = nginx_directives()
    upstreams = dict(re.findall(r"upstream\s+(\w+)\s*\{\s*server\s+(\S+);", directives))
    assert upstreams["ancrage_app"] == serve_option("ancrage-web.service", "--bind")
    assert upstreams["ancrage_uploads"] == serve_option("ancrage-uploads.service", "--bind")
    # The method picks the pool: POST to the uploads, anything else (GET, HEAD) to the web.
    variable, body = re.search(
        r"map\s+\$request_method\s+\$(\w+)\s*\{([^}]*)\}", directives
    ).groups()
    choices = dict(re.findall(r"(\S+)\s+(\S+);", body))
    assert choices == {"POST": "ancrage_uploads", "default": "ancrage_app"}
    # Only the upload location uses it; every other location proxies to the web pool.
    _pattern, location = upload_location()
    assert re.search(r"proxy_pass\s+http://\$" + variable + ";", location)
    passes = re.findall(r"proxy_pass\s+(\S+);", directives)
    assert passes.count(f"http://${variable}") == 1
    assert set(passes) == {f"http://${variable}", "http://ancrage_app"}
    # No `if` (nginx's "if is evil" inside locations): the map does the choosing.
    assert not re.search(r"^\s*if\s*\(", directives, re.M)
    # nginx reads the whole body before it proxies it (a slow phone holds no app thread).
    assert "proxy_request_buffering off" not in directives
    # A burst queued behind the pages' priority is waited for longer than a page.
    general = re.search(r"proxy_read_timeout\s+(\d+)s;", directives).group(1)
    for timeout in ("proxy_read_timeout", "proxy_send_timeout"):
        waited = re.search(timeout + r"\s+(\d+)s;", location)
        assert waited and int(waited.group(1)) >= 3 * int(general), timeout


def test_proxy_headers_match_proxy_fix_with_one_proxy():
    directives = nginx_directives()
    headers = dict(re.findall(r"proxy_set_header\s+(\S+)\s+(\S+);", directives))
    # Set, not appended to what the client sent: the app trusts exactly one hop.
    assert headers["X-Forwarded-For"] == "$remote_addr"
    assert headers["X-Forwarded-Proto"] == "$scheme"
    assert headers["X-Forwarded-Host"] == "$host"
    assert headers["Host"] == "$host"
    assert re.search(r"proxy_pass\s+http://ancrage_app;", directives)
    assert re.search(r"server\s+127\.0\.0\.1:8000;", directives)
    web = shlex.split(unit("ancrage-web.service")["Service"]["ExecStart"])
    assert web[web.index("--bind") + 1] == "127.0.0.1:8000"


def test_proxy_serves_tls_and_does_not_log_health_checks_or_secrets():
    directives = nginx_directives()
    assert re.search(r"listen\s+443\s+ssl", directives)
    assert re.search(r"return\s+301\s+https://", directives)
    for path in ("/sante", "/sante/pret"):
        block = re.search(r"location\s*=\s*" + re.escape(path) + r"\s*\{([^}]*)\}", directives)
        assert block and "access_log off;" in block.group(1), path
    # The access log format holds no query string ($request, $args, $request_uri) nor referer.
    log_format = re.search(r"log_format\s+ancrage_private(.*?);", directives, re.S).group(1)
    for variable in ("$request ", '$request"', "$args", "$request_uri", "$http_referer"):
        assert variable not in log_format, variable
    assert "$ancrage_logged_path" in log_format


def test_nginx_accepts_the_configuration(tmp_path):
    nginx = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    if nginx is None:
        missing("nginx is not installed: deploy/nginx/ancrage.conf was not checked (nginx -t)")
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    # A throwaway certificate in place of the real ones; everything else as shipped.
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ancrage.example.org")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    (tmp_path / "fullchain.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "privkey.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    site = NGINX_CONF.read_text()
    site = site.replace("/etc/letsencrypt/live/ancrage.example.org", str(tmp_path))
    site = site.replace("/var/log/nginx/", f"{tmp_path}/")
    (tmp_path / "ancrage.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        "events {}\n"
        f"http {{\n  access_log {tmp_path}/access.log;\n  include {tmp_path}/ancrage.conf;\n}}\n"
    )
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[warn]" not in result.stderr and "[emerg]" not in result.stderr, result.stderr


def test_gunicorn_keeps_idle_connections_longer_than_nginx_reuses_them():
    """nginx reuses its upstream connections for up to ``keepalive_timeout`` (60 s unless the
    upstream block sets it): gunicorn must not close them first, or a request sent on a
    connection it has just closed fails with a 502 that nginx does not retry for a POST."""
    from app.cli import KEEPALIVE_SECONDS

    conf = NGINX_CONF.read_text()
    upstreams = re.findall(r"upstream \w+ \{(.*?)\}", conf, re.DOTALL)
    assert upstreams and all("keepalive " in block for block in upstreams)
    for block in upstreams:
        found = re.search(r"keepalive_timeout\s+(\d+)s?;", block)
        nginx_seconds = int(found.group(1)) if found else 60
        assert nginx_seconds < KEEPALIVE_SECONDS
