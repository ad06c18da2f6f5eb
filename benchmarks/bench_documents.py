"""Uploads under load (issue #17): many concurrent document uploads through gunicorn, while
another person keeps opening a household's file — do the uploads finish without error, and
do they leave the other pages alone?

    .venv/bin/python -m benchmarks.bench_documents --database-url URL \
        [--uploads 100] [--size-kb 5120] [--kind pdf|jpeg] [--baseline 60] \
        [--workers 4] [--threads 4] [--upload-workers 0] [--upload-threads N]
        [--port 0] [--output docs/...md]

The database must be **empty and named for benchmarks** (benchmarks/guard.py; e.g.
``sqlite:////tmp/docs-bench/bench.sqlite3`` or ``createdb ancrage_bench_docs``); the script
migrates it and loads the demo data (``flask demo``) into it, then starts the deployed
server, ``flask serve`` (gunicorn, ``--workers 4 --threads 4``: threaded workers, as
deploy/systemd/ancrage-web.service) with its own instance folder and ``DOCUMENTS_FOLDER``
in a temporary folder, removed at the end.

1. Two clients log in as the demo social worker: the uploader (its session cookie shared
   by the upload threads) and the reader.
2. Baseline: the reader opens the household's file (``GET /menages/<id>``) ``--baseline``
   times in a row, with nothing else running.
3. Load: ``--uploads`` threads post one file each to the household's Documents tab at once
   (a valid PDF, or a JPEG photo that the server re-encodes with Pillow, of ``--size-kb``,
   each different so each is stored), while the reader keeps opening the same file.

Printed: uploads done / failed (a success is the 302 back to the tab), total time, upload
p50/p95, the file page's p50/p95 alone and during the uploads, the document rows and
stored files counted afterwards, and ``os.getloadavg()`` before and after — the clients
run on the same cores as the server, so the figures are this machine's, not a server's.
Exit status 1 when an upload failed or the rows/files do not match.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import guard  # after the path above (run as a script)

ROOT = Path(__file__).resolve().parent.parent
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SECRET_KEY = "bench-documents-" + "k" * 40  # a throwaway benchmark instance
WORKER = "sophie.martin@traitdunion.demo"


def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the dataset ------------------------------------------------------------------------------


def prepare_database(url: str, instance: Path) -> int:
    """Migrate, load the demo data; the id of the social worker's first household."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from app import create_app
    from app.db import db
    from app.demo import load_demo
    from app.households.models import Household
    from app.users.models import User

    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET_KEY,
            "MAIL_SENDER": "Ancrage benchmark <benchmark@localhost>",
        },
        instance_path=str(instance),
    )
    with app.app_context():
        upgrade()
        load_demo()
        db.session.commit()
        worker = db.session.scalar(select(User.id).where(User.email == WORKER))
        household = db.session.scalar(
            select(Household.id)
            .where(Household.referent_id == worker, Household.anonymised_at.is_(None))
            .order_by(Household.id)
        )
        db.session.remove()
        db.engine.dispose()
    if household is None:
        raise SystemExit(f"no household of {WORKER} in the demo data")
    return household


def count_documents(url: str, folder: Path) -> tuple[int, int]:
    """(document rows, stored files) once the run is over."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT count(*) FROM document")).scalar()
    engine.dispose()
    files = [p for p in folder.iterdir() if not p.name.startswith(".")] if folder.is_dir() else []
    return rows, len(files)


# --- the server -------------------------------------------------------------------------------


def start_server(url: str, instance: Path, port: int, workers: int, threads: int, *, nice: int = 0):
    """``flask serve`` on ``port``, its requests logged to ``server-<port>.log``."""
    env = {**os.environ, "ANCRAGE_INSTANCE_PATH": str(instance), "DATABASE_URL": url}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    base = f"http://127.0.0.1:{port}"
    log = (instance / f"server-{port}.log").open("w")  # a line per request, out of the report
    process = subprocess.Popen(  # noqa: S603 - our own venv's flask
        [*(["nice", "-n", str(nice)] if nice else []), sys.executable, "-m", "flask",
         "--app", "wsgi", "serve", "--bind", base[7:], "--workers", str(workers),
         "--threads", str(threads), "--timeout", "60"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    for _ in range(120):
        if process.poll() is not None:
            raise SystemExit(f"the server stopped (status {process.returncode})")
        try:
            requests.get(base + "/connexion", timeout=2)
            return process, base
        except requests.RequestException:
            time.sleep(0.5)
    process.terminate()
    raise SystemExit("the server did not answer within 60 s")


def log_in(base: str, password: str) -> requests.Session:
    http = requests.Session()
    page = http.get(base + "/connexion", timeout=60)
    response = http.post(
        base + "/connexion",
        data={"csrf_token": _csrf(page.text), "email": WORKER, "password": password},
        allow_redirects=False,
        timeout=60,
    )
    if response.status_code != 302 or response.headers["Location"].endswith("/connexion"):
        raise SystemExit(f"login {WORKER}: HTTP {response.status_code}")
    return http


def _csrf(html: str) -> str:
    match = CSRF_INPUT.search(html)
    return match.group(1) if match else ""


# --- the files --------------------------------------------------------------------------------


def make_files(kind: str, size: int, count: int) -> list[tuple[str, bytes, str]]:
    """``count`` different files of about ``size`` bytes: PDFs (a header, random bytes in a
    stream, a trailer) or JPEG photos (noise, which compresses badly; made different by a
    comment after the image)."""
    if kind == "pdf":
        head = b"%PDF-1.4\n1 0 obj\n<< /Length 0 >>\nstream\n"
        tail = b"\nendstream\nendobj\n%%EOF\n"
        body = os.urandom(max(0, size - len(head) - len(tail) - 16))
        return [
            (f"scan-{n:03}.pdf", head + body + f"{n:016}".encode() + tail, "application/pdf")
            for n in range(count)
        ]
    from PIL import Image

    side = 256
    while True:  # the smallest noise photo of at least ``size`` bytes
        out = io.BytesIO()
        Image.effect_noise((side * 4 // 3, side), 90).convert("RGB").save(out, "JPEG", quality=95)
        if out.tell() >= size or side >= 6000:
            break
        side = int(side * max(1.1, (size / out.tell()) ** 0.5))
    photo = out.getvalue()
    return [(f"photo-{n:03}.jpg", photo + f"{n:016}".encode(), "image/jpeg") for n in range(count)]


# --- the clients ------------------------------------------------------------------------------


class Reader:
    """Opens the household's file again and again: in the benchmark's main process for the
    baseline, in a process of its own during the uploads (so that the 100 upload threads of
    this process do not slow its own measure down)."""

    def __init__(self, http, url):
        self.http, self.url = http, url
        self.times: list[float] = []
        self.errors: list[str] = []

    def get(self) -> None:
        started = time.perf_counter()
        try:
            status = self.http.get(self.url, timeout=60).status_code
        except requests.RequestException as error:
            self.errors.append(type(error).__name__)
            return
        self.times.append(time.perf_counter() - started)
        if status != 200:
            self.errors.append(f"HTTP {status}")

    def loop(self, go, stop, results) -> None:
        go.wait()
        while not stop.is_set():
            self.get()
        results.send((self.times, self.errors))


def upload(base, cookies, token, tab, file, gate, results, lock) -> None:
    http = requests.Session()
    http.cookies.update(cookies)
    name, data, mimetype = file
    fields = {"csrf_token": token, "category": "ressources", "title": "", "link": ""}
    gate.wait()
    started = time.perf_counter()
    try:
        response = http.post(
            base + tab,
            data=fields,
            files={"files": (name, data, mimetype)},
            allow_redirects=False,
            timeout=300,
        )
        outcome = "ok" if response.status_code == 302 else f"HTTP {response.status_code}"
    except requests.RequestException as error:
        outcome = type(error).__name__
    with lock:
        results.append((outcome, time.perf_counter() - started))


LOG_LINE = re.compile(r"endpoint=(\S+) status=\d+ duration_ms=([\d.]+)")


def _server_lines(instance: Path, since: dict | None = None) -> dict[str, list[str]]:
    """The servers' log lines by file, after the first ``since[file]`` lines."""
    return {
        path.name: path.read_text(errors="replace").splitlines()[(since or {}).get(path.name, 0) :]
        for path in sorted(instance.glob("server-*.log"))
    }


def server_times(lines: list[str]) -> dict[str, list[float]]:
    """Time spent inside the app by endpoint (app/logs.py's request lines), in seconds: the
    rest of a client's wait is the queue in front of gunicorn's threads."""
    times: dict[str, list[float]] = {}
    for line in lines:
        match = LOG_LINE.search(line)
        if match:
            times.setdefault(match.group(1), []).append(float(match.group(2)) / 1000)
    return times


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def report(args, figures: dict) -> str:
    alone, during, uploads = figures["alone"], figures["during"], figures["uploads"]
    done = sum(1 for outcome, _ in uploads if outcome == "ok")
    failed = [outcome for outcome, _ in uploads if outcome != "ok"]
    times = [seconds for _, seconds in uploads]
    lines = [
        f"- server: flask serve (gunicorn), {args.workers} workers × {args.threads} threads, "
        f"{figures['db']}"
        + (
            f"; uploads sent to a second server of {args.upload_workers} workers × "
            f"{args.upload_threads or args.threads} threads at nice 10"
            if args.upload_workers
            else ""
        ),
        f"- uploads: {len(uploads)} at once, {args.kind.upper()} of {args.size_kb} KB each: "
        f"{done} done, {len(failed)} failed"
        + (f" ({', '.join(sorted(set(failed)))})" if failed else ""),
        f"- total time of the uploads: {figures['elapsed']:.1f} s; one upload p50 "
        f"{ms(statistics.median(times))} ms, p95 {ms(percentile(times, 95))} ms, max "
        f"{ms(max(times))} ms",
        f"- household file alone: {len(alone)} requests, p50 {ms(statistics.median(alone))} ms, "
        f"p95 {ms(percentile(alone, 95))} ms",
        f"- household file during the uploads: {len(during)} requests, p50 "
        f"{ms(statistics.median(during) if during else 0)} ms, p95 "
        f"{ms(percentile(during, 95))} ms, max {ms(max(during) if during else 0)} ms"
        + (f"; errors: {figures['reader_errors']}" if figures["reader_errors"] else ""),
        "- inside the app during the uploads (the rest is waiting for a thread): "
        + "; ".join(
            f"{endpoint} p50 {ms(statistics.median(values))} ms, p95 "
            f"{ms(percentile(values, 95))} ms"
            for endpoint, values in sorted(figures["server"].items())
            if endpoint in ("households.show", "documents.household")
        ),
        f"- stored afterwards: {figures['rows']} document rows, {figures['files']} files",
        "- load average (1, 5, 15 min) before: "
        + ", ".join(f"{v:.2f}" for v in figures["load_before"])
        + "; after: "
        + ", ".join(f"{v:.2f}" for v in figures["load_after"]),
    ]
    return "\n".join(lines)


def run(args) -> int:
    from app.demo.accounts import DEMO_PASSWORD

    folder = Path(tempfile.mkdtemp(prefix="ancrage-bench-documents-"))
    instance, documents = folder / "instance", folder / "documents"
    instance.mkdir()
    processes = []
    try:
        print("migrating and loading the demo data…", flush=True)
        household = prepare_database(args.database_url, instance)
        files = make_files(args.kind, args.size_kb * 1024, args.uploads)
        (instance / "config.py").write_text(
            f"SECRET_KEY = {SECRET_KEY!r}\nSESSION_COOKIE_SECURE = False\n"
            "MAIL_SENDER = 'Ancrage benchmark <benchmark@localhost>'\n"
            f"DOCUMENTS_FOLDER = {str(documents)!r}\n"
        )
        url, port = args.database_url, args.port or free_port()
        process, base = start_server(url, instance, port, args.workers, args.threads)
        upload_base = base
        if args.upload_workers:  # a pool of its own for the uploads, at a lower priority
            upload_process, upload_base = start_server(
                url,
                instance,
                free_port(),
                args.upload_workers,
                args.upload_threads or args.threads,
                nice=10,
            )
            processes.append(upload_process)
        processes.append(process)
        uploader, reader_http = log_in(base, DEMO_PASSWORD), log_in(base, DEMO_PASSWORD)
        tab = f"/menages/{household}/documents"
        token = _csrf(uploader.get(base + tab, timeout=60).text)
        page = base + f"/menages/{household}"
        reader = Reader(reader_http, page)
        # Warm every worker up (templates compiled, statements cached), then the baseline.
        warm = [
            threading.Thread(target=requests.Session().get, args=(base + "/connexion",))
            for _ in range(args.workers * 2)
        ]
        for thread in warm:
            thread.start()
        for thread in warm:
            thread.join()
        for _ in range(max(5, args.workers * 2)):
            reader.get()
        reader.times.clear()
        load_before = os.getloadavg()
        for _ in range(args.baseline):
            reader.get()
        alone = list(reader.times)
        reader.times.clear()
        # The reader's process, forked before any upload thread exists.
        context = multiprocessing.get_context("fork")
        go, stop, (receive, send) = context.Event(), context.Event(), context.Pipe(duplex=False)
        reading = context.Process(target=reader.loop, args=(go, stop, send), daemon=True)
        reading.start()
        logged_before = {name: len(lines) for name, lines in _server_lines(instance).items()}

        gate, lock, results = threading.Barrier(args.uploads + 1), threading.Lock(), []
        threads = [
            threading.Thread(
                target=upload,
                args=(upload_base, uploader.cookies, token, tab, file, gate, results, lock),
                daemon=True,
            )
            for file in files
        ]
        for thread in threads:
            thread.start()
        print(f"{args.uploads} uploads of {args.size_kb} KB at once…", flush=True)
        go.set()
        started = time.perf_counter()
        gate.wait()
        for thread in threads:
            thread.join(timeout=600)
        elapsed = time.perf_counter() - started
        stop.set()
        during, reader_errors = receive.recv()
        reading.join(timeout=120)
        load_after = os.getloadavg()
        rows, stored = count_documents(args.database_url, documents)
        figures = {
            "db": args.database_url.split(":", 1)[0].split("+")[0],
            "alone": alone,
            "during": during,
            "server": server_times(
                [
                    line
                    for lines in _server_lines(instance, logged_before).values()
                    for line in lines
                ]
            ),
            "uploads": results,
            "elapsed": elapsed,
            "reader_errors": ", ".join(sorted(set(reader_errors))),
            "rows": rows,
            "files": stored,
            "load_before": load_before,
            "load_after": load_after,
        }
        text = report(args, figures)
        print(text, flush=True)
        if args.output:
            with open(args.output, "a") as out:
                out.write(f"\n## Document uploads {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n\n")
                out.write(text + "\n")
        done = sum(1 for outcome, _ in results if outcome == "ok")
        ok = done == args.uploads == rows == stored and not reader_errors
        if not ok:
            log = "\n".join(line for lines in _server_lines(instance).values() for line in lines)
            print("server logs (end):\n" + log[-4000:], file=sys.stderr)
        return 0 if ok else 1
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--uploads", type=int, default=100)
    parser.add_argument("--size-kb", type=int, default=5 * 1024)
    parser.add_argument("--kind", choices=("pdf", "jpeg"), default="pdf")
    parser.add_argument("--baseline", type=int, default=60, help="file page requests alone")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument(
        "--upload-workers",
        type=int,
        default=0,
        help="send the uploads to a second server of N workers, started with nice 10 (as "
        "deploy/systemd/ancrage-uploads.service, behind nginx's routing of upload POSTs); "
        "default: the one server",
    )
    parser.add_argument(
        "--upload-threads", type=int, default=0, help="threads of the upload server (--threads)"
    )
    parser.add_argument("--output", help="Markdown file the results are appended to")
    guard.add_flag(parser, emptied=True)
    args = parser.parse_args(argv)
    if not 1 <= args.uploads <= 500 or not 1 <= args.size_kb <= 9 * 1024:
        raise SystemExit("--uploads 1..500, --size-kb 1..9216 (the limit is 10 MB a file)")
    try:
        guard.check_new_dataset(args.database_url, allow=args.allow_any_database)
    except guard.RefusedDatabase as error:
        guard.refuse(error)
    if args.allow_any_database:
        guard.empty_database(args.database_url)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
