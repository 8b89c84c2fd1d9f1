#!/usr/bin/env python3
"""microcat benchmarks: our code path side by side with the tool a user would pick instead.

Every figure is a ratio measured in one run, interleaving ours and the peer (A B A B ...),
median of >= 5 runs after a warm-up. Prints one table and saves it to target/bench/results.md.
"""
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
RELEASE = os.path.join(TARGET, "release")
MICROCAT = os.path.join(RELEASE, "microcat")
MICROCAT_VIDEO = os.path.join(RELEASE, "microcat-video")
OUT = os.path.join(ROOT, "target", "bench")
DATA = os.path.join(OUT, "data")
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
SEARCH_DOCS = int(os.environ.get("BENCH_SEARCH_DOCS", "100000"))
UPLOAD_BYTES = int(os.environ.get("BENCH_UPLOAD_BYTES", str(2 * 1024**3)))
ROWS = []
# Debian's ImageMagick itself: a wrapper earlier on PATH (some sandboxes put one in
# /usr/local/bin) would add its own start-up time to the peer's.
CONVERT = "/usr/bin/convert" if os.path.exists("/usr/bin/convert") else "convert"


def run(cmd, **kwargs):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def timed(cmd):
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def interleave(ours, peer, runs=RUNS):
    """Warm both up, then alternate; returns (median ours, median peer) in seconds."""
    ours(), peer()
    a, b = [], []
    for _ in range(runs):
        a.append(ours())
        b.append(peer())
    return statistics.median(a), statistics.median(b)


def row(what, ours, peer, value, target, met):
    ROWS.append((what, ours, peer, value, target, "yes" if met else "**no**" if met is not None else "report"))
    print(f"  {what}: {value}  (target {target})", flush=True)


def version(cmd):
    try:
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
        return out.strip().splitlines()[0]
    except OSError:
        return "not installed"


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return model, os.cpu_count()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(method, url, token=None, body=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")


class Server:
    """A release `microcat serve` in its own folder."""

    def __init__(self, folder, env=None):
        self.port = free_port()
        self.address = f"http://127.0.0.1:{self.port}"
        environment = dict(os.environ, MICROCAT_LISTEN=f"127.0.0.1:{self.port}", MICROCAT_ADMIN_PASSWORD="bench-password-1", RUST_LOG="warn")
        environment.update(env or {})
        self.process = subprocess.Popen([MICROCAT, "serve"], cwd=folder, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while True:
            try:
                http("GET", f"{self.address}/healthz")
                break
            except OSError:
                if time.time() > deadline or self.process.poll() is not None:
                    raise RuntimeError("server did not start")
                time.sleep(0.1)
        self.token = http("POST", f"{self.address}/api/v1/session", body={"username": "admin", "password": "bench-password-1"})["token"]

    def memory(self):
        fields = {}
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    name, value = line.split(":")
                    fields[name] = int(value.split()[0]) * 1024
        return fields["VmRSS"], fields["VmHWM"]

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def make_data():
    os.makedirs(DATA, exist_ok=True)
    ffmpeg = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"]
    photo = os.path.join(DATA, "photo.jpg")
    if not os.path.exists(photo):
        # A photo-like texture: a fractal with film grain, 4000x3000, JPEG quality ~90.
        run(ffmpeg + ["-f", "lavfi", "-i", "mandelbrot=s=4000x3000:maxiter=200,noise=alls=25:allf=t", "-frames:v", "1", "-q:v", "2", photo])
    png = os.path.join(DATA, "photo.png")
    if not os.path.exists(png):
        run(ffmpeg + ["-f", "lavfi", "-i", "testsrc2=s=4000x3000", "-frames:v", "1", png])
    film = os.path.join(DATA, "film.mp4")
    if not os.path.exists(film):
        run(ffmpeg + ["-f", "lavfi", "-i", "testsrc2=s=1920x1080:r=30:d=60", "-f", "lavfi", "-i", "sine=d=60",
                      "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", film])
    return photo, png, film


def make_phone_films():
    """Clips shaped like phone footage: 1080p, 60 s, a keyframe every 2 s; H.264 and HEVC (hvc1)."""
    ffmpeg = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"]
    source = ["-f", "lavfi", "-i", "testsrc2=s=1920x1080:r=30:d=60", "-f", "lavfi", "-i", "sine=d=60"]
    phone = os.path.join(DATA, "phone.mp4")
    if not os.path.exists(phone):
        run(ffmpeg + source + ["-c:v", "libx264", "-preset", "veryfast", "-g", "60", "-keyint_min", "60", "-sc_threshold", "0",
                               "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", phone])
    hevc = os.path.join(DATA, "phone-hevc.mp4")
    if not os.path.exists(hevc):
        run(ffmpeg + source + ["-c:v", "libx265", "-preset", "fast", "-x265-params", "keyint=60:min-keyint=60:log-level=error",
                               "-tag:v", "hvc1", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", hevc])
    return phone, hevc


def timed_with_memory(cmd):
    """Seconds and peak resident memory (MiB) of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise RuntimeError(f"{cmd[0]} failed with status {status}")
    return elapsed, usage.ru_maxrss / 1024


def bench_thumbnails(photo, png):
    print("thumbnails", flush=True)
    out = os.path.join(OUT, "thumb")
    ours = lambda source: lambda: timed([MICROCAT, "thumbnail", source, out + "-ours.jpg", "--size", "320"])
    vips = lambda source: lambda: timed(["vipsthumbnail", "-s", "320", "-o", out + "-vips.jpg", source])
    magick = lambda: timed([CONVERT, photo, "-thumbnail", "320x320", out + "-im.jpg"])
    a, b = interleave(ours(photo), vips(photo))
    row("photo thumbnail 12 MP JPEG → 320 px", f"{a*1000:.0f} ms", f"vipsthumbnail {b*1000:.0f} ms", f"{a/b:.2f}× vips' time", "≤ 1.2×", a / b <= 1.2)
    a, c = interleave(ours(photo), magick)
    row("same vs ImageMagick", f"{a*1000:.0f} ms", f"convert -thumbnail {c*1000:.0f} ms", f"{c/a:.1f}× faster", "≥ 2.5× faster", c / a >= 2.5)
    a, b = interleave(ours(png), vips(png))
    row("PNG 4000×3000 → 320 px", f"{a*1000:.0f} ms", f"vipsthumbnail {b*1000:.0f} ms", f"{a/b:.2f}× vips' time", "report", None)
    heic = photo.replace(".jpg", ".heic")
    if not os.path.exists(heic):
        run(["heif-enc", "-q", "85", "-o", heic, photo])
    a, b = interleave(ours(heic), vips(heic))
    row("HEIC 12 MP → 320 px", f"{a*1000:.0f} ms", f"vipsthumbnail {b*1000:.0f} ms", f"{a/b:.2f}× vips' time", "report", None)


def bench_poster(film):
    print("poster", flush=True)
    out = os.path.join(OUT, "poster")
    ours = lambda: timed([MICROCAT, "poster", film, out + "-ours.jpg", "--size", "320"])
    peer = lambda: timed(["ffmpeg", "-loglevel", "error", "-y", "-ss", "6", "-i", film, "-frames:v", "1", "-vf", "scale=320:-2", out + "-ffmpeg.jpg"])
    a, b = interleave(ours, peer)
    row("video poster 1080p H.264 60 s → 320 px", f"{a*1000:.0f} ms", f"ffmpeg -ss {b*1000:.0f} ms", f"{a/b:.2f}× ffmpeg's time", "≤ 1.0×", a / b <= 1.0)
    phone, _ = make_phone_films()
    ours = lambda: timed([MICROCAT, "poster", phone, out + "-phone-ours.jpg", "--size", "320"])
    peer = lambda: timed(["ffmpeg", "-loglevel", "error", "-y", "-ss", "6", "-i", phone, "-frames:v", "1", "-vf", "scale=320:-2", out + "-phone-ffmpeg.jpg"])
    a, b = interleave(ours, peer)
    row("video poster, phone-shaped clip (1080p, keyframe every 2 s, 60 s) → 320 px", f"{a*1000:.0f} ms", f"ffmpeg -ss {b*1000:.0f} ms", f"{a/b:.2f}× ffmpeg's time", "≤ 1.0×", a / b <= 1.0)


def bench_preview():
    """The playable preview of a 60 s 1080p HEVC clip, ours vs the ffmpeg CLI with the same settings."""
    print("preview", flush=True)
    _, hevc = make_phone_films()
    out = os.path.join(OUT, "preview")
    ours_memory, peer_memory = [], []

    def ours():
        elapsed, rss = timed_with_memory([MICROCAT_VIDEO, "preview", hevc, out + "-ours.mp4"])
        ours_memory.append(rss)
        return elapsed

    def peer():
        elapsed, rss = timed_with_memory(["ffmpeg", "-loglevel", "error", "-y", "-i", hevc, "-c:v", "libx264", "-preset", "veryfast",
                                          "-crf", "23", "-vf", "scale=-2:720", "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart",
                                          out + "-ffmpeg.mp4"])
        peer_memory.append(rss)
        return elapsed

    a, b = interleave(ours, peer, runs=max(3, RUNS // 2))
    row("preview of a 60 s 1080p HEVC clip → 720p H.264/AAC", f"{a:.1f} s ({60 / a:.2f}× real time on 2 cores)", f"ffmpeg CLI {b:.1f} s",
        f"{a/b:.2f}× the CLI's time", "≤ 1.05×", a / b <= 1.05)
    row("peak memory of the preview worker", f"{max(ours_memory):.0f} MiB", f"ffmpeg CLI {max(peer_memory):.0f} MiB",
        f"{max(ours_memory) / max(peer_memory):.2f}× the CLI's", "report", None)


def bench_processing(film):
    print("whole processing", flush=True)
    work = tempfile.mkdtemp(dir=OUT)
    request = json.dumps({"input": film, "format": "mp4", "output_dir": work, "limits": {"max_pixels": 100_000_000, "max_duration_ms": 10_800_000}})

    def ours():
        started = time.perf_counter()
        done = subprocess.run([MICROCAT_VIDEO, "media-worker"], input=request, text=True, check=True, stdout=subprocess.PIPE)
        elapsed = time.perf_counter() - started
        outcome = json.loads(done.stdout)
        if outcome["outcome"] != "ready" or len(outcome["derivatives"]) != 5:
            raise RuntimeError(f"the film worker did not process the film: {outcome}")
        return elapsed

    ff = ["ffmpeg", "-loglevel", "error", "-y"]

    def peer():
        started = time.perf_counter()
        subprocess.run(["ffprobe", "-v", "error", "-show_format", "-show_streams", film], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(ff + ["-ss", "6", "-i", film, "-frames:v", "1", "-vf", "scale=1280:-2", f"{work}/p.jpg"], check=True)
        subprocess.run(ff + ["-i", f"{work}/p.jpg", "-vf", "scale=320:-2", f"{work}/s.jpg"], check=True)
        subprocess.run(ff + ["-i", film, "-vf", "fps=1/2,scale=160:-2,tile=10x3", "-frames:v", "1", f"{work}/sb.jpg"], check=True)
        return time.perf_counter() - started

    a, b = interleave(ours, peer, runs=max(5, RUNS // 2))
    row("whole processing of a 1080p film (probe + poster + storyboard + thumbnails)", f"{a:.2f} s (worker child)", f"ffprobe + 3 ffmpeg {b:.2f} s", f"{a/b:.2f}× the CLI's time", "≤ 1.0×", a / b <= 1.0)
    shutil.rmtree(work, ignore_errors=True)


def bench_upload():
    print("upload", flush=True)
    folder = tempfile.mkdtemp(dir=OUT)
    big = os.path.join(folder, "big.mp4")
    with open(big, "wb") as handle:
        # Real bytes, not a sparse file: cp would skip the holes.
        handle.write(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomavc1")
        chunk = bytes(range(256)) * 4096
        written = 24
        while written < UPLOAD_BYTES:
            piece = chunk[: UPLOAD_BYTES - written]
            handle.write(piece)
            written += len(piece)
    server = Server(folder, {"MICROCAT_MEDIA_WORKERS": "1"})
    work = http("POST", f"{server.address}/api/v1/works", server.token, {"kind": "micro_film", "title": "上传测试"})["id"]
    url = f"{server.address}/api/v1/works/{work}/media"
    _, peak_before = server.memory()

    def ours():
        return timed(["curl", "-sf", "-o", "/dev/null", "-H", f"Authorization: Bearer {server.token}", "-F", f"file=@{big}", url])

    def peer():
        copy = os.path.join(folder, "copy.mp4")
        started = time.perf_counter()
        subprocess.run(["cp", big, copy], check=True)
        subprocess.run(["sync", "-f", copy], check=True)
        elapsed = time.perf_counter() - started
        os.remove(copy)
        return elapsed

    a, b = interleave(ours, peer, runs=5)
    upload_row(server, peak_before, "file over loopback", "cp+fsync", "cp's throughput", a, b)
    shutil.rmtree(folder, ignore_errors=True)


def upload_row(server, peak_before, what, peer, versus, ours_seconds, peer_seconds):
    """Stops the server and reports an upload of UPLOAD_BYTES: its speed against the peer's and
    the server's RSS growth (targets ≥ 0.6×, ≤ 64 MiB)."""
    _, peak_after = server.memory()
    server.stop()
    growth = max(0, peak_after - peak_before) / 2**20
    gib = UPLOAD_BYTES / 2**30
    ratio = peer_seconds / ours_seconds
    row(f"upload of a {gib:.1f} GiB {what}", f"curl -F {gib/ours_seconds*1024:.0f} MiB/s", f"{peer} {gib/peer_seconds*1024:.0f} MiB/s",
        f"{ratio:.2f}× {versus}; RSS growth {growth:.0f} MiB", "≥ 0.6×; ≤ 64 MiB", ratio >= 0.6 and growth <= 64)


def bench_archive():
    """Import of 10 000 WeChat records with the server running; backup vs cp -r of the originals."""
    print("archive", flush=True)
    folder = tempfile.mkdtemp(dir=OUT)
    count = int(os.environ.get("BENCH_IMPORT_RECORDS", "10000"))
    paragraph = "民警走进社区开展反诈宣传，讲解电信网络诈骗的常见手法，提醒群众守好钱袋子。"
    records = [{
        "aid": f"{2247480000 + n}_1", "appmsgid": 2247480000 + n, "itemidx": 1, "title": f"平安宣传第{n}期：守护群众钱袋子",
        "digest": "反诈宣传进社区", "link": f"https://mp.weixin.qq.com/s?__biz=MzA5&mid={2247480000 + n}&idx=1",
        "create_time": 1600000000 + n * 3600, "author_name": "宣传科", "content": paragraph * 28,
        "readNum": n, "oldLikeNum": n % 100, "shareNum": n % 17, "commentNum": "{}",
    } for n in range(count)]
    export = os.path.join(folder, "articles.json")
    with open(export, "w", encoding="utf-8") as handle:
        json.dump(records, handle, ensure_ascii=False)
    server = Server(folder)
    environment = dict(os.environ, MICROCAT_ADMIN_PASSWORD="bench-password-1", RUST_LOG="warn")
    started = time.perf_counter()
    child = subprocess.Popen([MICROCAT, "import", export], cwd=folder, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise RuntimeError("microcat import failed")
    deadline = time.time() + 600
    while True:
        found = http("GET", f"{server.address}/api/v1/search?q=%E5%AE%88%E6%8A%A4%E7%BE%A4%E4%BC%97&per_page=1", server.token)
        if found["total"] >= count or time.time() > deadline:
            break
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    server.stop()
    rate = count / elapsed
    peak = usage.ru_maxrss / 1024
    row(f"import of {count} WeChat records (JSON, ~3 KB each), server running, until all are searchable", f"{rate:.0f} records/s, peak {peak:.0f} MiB",
        "target", f"{found['total']} searchable", "≥ 300 records/s, ≤ 200 MiB", rate >= 300 and peak <= 200 and found["total"] >= count)

    # 200 originals of 5 MB, recorded as media of the imported works (backup copies what the
    # database names).
    db_path = os.path.join(folder, "data", "microcat.db")
    with sqlite3.connect(db_path) as conn:
        works = [row[0] for row in conn.execute("SELECT id FROM works LIMIT 200")]
        admin = conn.execute("SELECT id FROM users WHERE username = 'admin'").fetchone()[0]
        for n, work in enumerate(works):
            digest = os.urandom(32).hex()
            target = os.path.join(folder, "media", "originals", digest[:2], digest[2:4])
            os.makedirs(target, exist_ok=True)
            with open(os.path.join(target, digest), "wb") as handle:
                handle.write(os.urandom(5 * 1024 * 1024))
            conn.execute("INSERT INTO media (id, work_id, sha256, size, format, content_type, role, version, status, derivatives, created_by, created_at, updated_at) "
                         "VALUES (?, ?, ?, ?, 'mp4', 'video/mp4', 'attachment', 1, 'ready', '[]', ?, '2024-01-01 00:00:00', '2024-01-01 00:00:00')",
                         (f"00000000-0000-7000-8000-{n:012d}", work, digest, 5 * 1024 * 1024, admin))
    database = f"sqlite://{db_path}"

    def ours():
        target = os.path.join(folder, "backup")
        shutil.rmtree(target, ignore_errors=True)
        return timed([MICROCAT, "backup", target, "--database-url", database, "--media-dir", os.path.join(folder, "media")])

    def peer():
        target = os.path.join(folder, "copy")
        shutil.rmtree(target, ignore_errors=True)
        return timed(["cp", "-r", os.path.join(folder, "media", "originals"), target])

    def durable_peer():
        target = os.path.join(folder, "copy")
        shutil.rmtree(target, ignore_errors=True)
        started = time.perf_counter()
        subprocess.run(["cp", "-r", os.path.join(folder, "media", "originals"), target], check=True)
        subprocess.run(["sync", "-f", target], check=True)
        return time.perf_counter() - started

    a, b = interleave(ours, peer, runs=3)
    row("backup of 1 GB of originals (plus the database snapshot), flushed to disk", f"{1000 / a:.0f} MB/s", f"cp -r {1000 / b:.0f} MB/s (not flushed)", f"{b / a:.2f}× cp's throughput", "≥ 0.8×", b / a >= 0.8)
    a, c = interleave(ours, durable_peer, runs=3)
    row("same vs a copy that is also flushed", f"{1000 / a:.0f} MB/s", f"cp -r && sync -f {1000 / c:.0f} MB/s", f"{c / a:.2f}× its throughput", "report", None)
    shutil.rmtree(folder, ignore_errors=True)


def wrk(url, connections, seconds, token=None, script=None):
    cmd = ["wrk", "-t", str(min(2, connections)), "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    if token:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    if script:
        cmd += ["-s", script]
    out = run(cmd + [url]).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, wrk_latency(out, "99%"), int(errors.group(1)) if errors else 0, wrk_latency(out, "50%")


def wrk_latency(out, which):
    """A percentile of wrk's --latency table, in ms."""
    found = re.search(which + r"\s+([\d.]+)(us|ms|s)", out)
    return float(found.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]


def bench_search():
    print(f"search: building {SEARCH_DOCS} documents", flush=True)
    folder = os.path.join(OUT, "search")
    report = json.loads(run([os.path.join(RELEASE, "examples", "search_bench"), folder, str(SEARCH_DOCS)]).stdout.strip().splitlines()[-1])
    ratio = report["index_mb_per_s"] / report["segmentation_mb_per_s"]
    row(f"search index build, {report['documents']} Chinese documents", f"{report['index_docs_per_s']:.0f} docs/s ({report['index_mb_per_s']:.1f} MB/s, {report['index_cpu_us_per_doc']:.0f} µs CPU/doc, index {report['index_bytes']/2**20:.0f} MiB)",
        f"jieba alone {report['segmentation_mb_per_s']:.1f} MB/s", f"{ratio:.2f}× segmentation-only throughput", "≥ 3 000 docs/s; ≥ 0.5×",
        report["index_docs_per_s"] >= 3000 and ratio >= 0.5)
    row("search in-process, 1–3 word queries with facets", f"p50 {report['query_p50_ms']:.2f} ms, p99 {report['query_p99_ms']:.2f} ms", "-", "report", "report", None)
    queries = open(os.path.join(folder, "queries.txt"), encoding="utf-8").read().splitlines()[:200]
    server = Server(folder)
    script = os.path.join(OUT, "search.lua")
    paths = [f"/api/v1/search?q={urllib.parse.quote(q)}&per_page=10" for q in queries]
    with open(script, "w") as lua:
        lua.write("local paths = {" + ",".join(json.dumps(p) for p in paths) + "}\nlocal i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format('GET', paths[i])\nend\n")
    results = {}
    for connections in (1, 32):
        results[connections] = wrk(server.address + "/", connections, 10, server.token, script)
    server.stop()
    fts = bench_sqlite_fts(folder, queries)
    pg = bench_postgres_trgm(folder, queries)
    # The same with the read cache off: what every first-time query costs.
    uncached = Server(folder, env={"MICROCAT_READ_CACHE_MS": "0"})
    for connections in (1, 8, 32):
        rps, p99, errors, p50 = wrk(uncached.address + "/", connections, 10, uncached.token, script)
        peer_text = f"pg_trgm p50 {pg[connections][0]:.1f} ms, p99 {pg[connections][1]:.1f} ms" if pg else "-"
        row(f"search over HTTP, wrk -c {connections}, read cache off", f"{rps:.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, {errors} errors",
            peer_text, "report", "report", None)
    uncached.stop()
    for connections in (1, 32):
        rps, p99, errors, _ = results[connections]
        fts_p99 = fts[connections][1]
        peer_text = f"SQLite FTS5 p99 {fts_p99:.1f} ms; PostgreSQL pg_trgm p99 {pg[connections][1]:.1f} ms" if pg else f"SQLite FTS5 p99 {fts_p99:.1f} ms"
        faster = p99 < fts_p99 and (not pg or p99 < pg[connections][1])
        row(f"search over HTTP, wrk -c {connections}", f"{rps:.0f} req/s, p99 {p99:.1f} ms, {errors} errors", peer_text, f"p99 {p99:.1f} ms", "p99 ≤ 15 ms; faster than both", p99 <= 15 and faster)


def load_texts(folder):
    database = sqlite3.connect(os.path.join(folder, "data", "microcat.db"))
    return database.execute("SELECT id, title, body, kind, status, unit FROM works").fetchall()


def latency_profile(run_query, queries, connections):
    """(p50, p99) latency in ms of running the queries with this many concurrent clients for 10 s."""
    import threading
    latencies, stop = [], time.time() + 10

    def client(offset):
        index = offset
        while time.time() < stop:
            started = time.perf_counter()
            run_query(queries[index % len(queries)])
            latencies.append((time.perf_counter() - started) * 1000)
            index += connections

    threads = [threading.Thread(target=client, args=(n,)) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return percentile(latencies, 0.5), percentile(latencies, 0.99)


def bench_sqlite_fts(folder, queries):
    path = os.path.join(OUT, "fts.db")
    if os.path.exists(path):
        os.remove(path)
    database = sqlite3.connect(path)
    database.execute("CREATE VIRTUAL TABLE docs USING fts5(title, body, kind UNINDEXED, status UNINDEXED, unit UNINDEXED, tokenize='trigram')")
    database.executemany("INSERT INTO docs(title, body, kind, status, unit) VALUES (?, ?, ?, ?, ?)", [row[1:] for row in load_texts(folder)])
    database.commit()
    local = __import__("threading").local()

    def query(text):
        if not hasattr(local, "db"):
            local.db = sqlite3.connect(path, check_same_thread=False)
        terms = " AND ".join('"' + word.replace('"', "") + '"' for word in text.split())
        local.db.execute("SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY rank LIMIT 10", (terms,)).fetchall()
        local.db.execute("SELECT kind, count(*) FROM docs WHERE docs MATCH ? GROUP BY kind", (terms,)).fetchall()

    return {connections: latency_profile(query, queries, connections) for connections in (1, 32)}


def bench_postgres_trgm(folder, queries):
    url = os.environ.get("BENCH_POSTGRES_URL")
    if not url:
        return None
    rows = load_texts(folder)
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False, encoding="utf-8") as tsv:
        for _, title, body, kind, status, unit in rows:
            tsv.write("\t".join(value.replace("\t", " ").replace("\n", " ") for value in (title, body, kind, status, unit or "")) + "\n")
    setup = f"""DROP TABLE IF EXISTS docs; CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE docs (title text, body text, kind text, status text, unit text);
\\copy docs FROM '{tsv.name}'
CREATE INDEX ON docs USING gin (body gin_trgm_ops); CREATE INDEX ON docs USING gin (title gin_trgm_ops); ANALYZE docs;"""
    run(["psql", "-q", url, "-c", "SELECT 1"])
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url], input=setup, text=True, check=True, stdout=subprocess.DEVNULL)
    results = {}
    for connections in (1, 8, 32):
        script = os.path.join(OUT, "pg.sql")
        with open(script, "w", encoding="utf-8") as handle:
            handle.write("\\set n random(1, %d)\n" % len(queries))
            # pgbench cannot index an array by a variable: a CASE picks the query text.
            cases = " ".join(f"WHEN {n+1} THEN '{q}'" for n, q in enumerate(queries))
            handle.write(f"SELECT title FROM docs, (SELECT CASE :n {cases} END AS q) AS t WHERE body ILIKE '%' || split_part(t.q, ' ', 1) || '%' AND body ILIKE '%' || split_part(t.q || ' ', ' ', 2) || '%' LIMIT 10;\n")
        log_dir = tempfile.mkdtemp(dir=OUT)
        subprocess.run(["pgbench", "-n", "-f", script, "-c", str(connections), "-j", "2", "-T", "10", "-l", "--log-prefix", os.path.join(log_dir, "pg"), url],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        latencies = []
        for name in os.listdir(log_dir):
            with open(os.path.join(log_dir, name)) as log:
                latencies += [int(line.split()[2]) / 1000 for line in log if line.strip()]
        results[connections] = percentile(latencies, 0.5), percentile(latencies, 0.99)
        shutil.rmtree(log_dir, ignore_errors=True)
    os.remove(tsv.name)
    return results


def relevance_set():
    """The documents and queries of tests/api/search_corpus.rs (the tests' relevance set)."""
    source = open(os.path.join(ROOT, "tests", "api", "search_corpus.rs"), encoding="utf-8").read()
    quoted = r'"((?:[^"\\]|\\.)*)"'
    docs = []
    pattern = r'\(\s*"(d\d+)",\s*' + r',\s*'.join([quoted] * 4)
    for match in re.finditer(pattern, source):
        key, kind, title, summary, body = (value.replace('\\"', '"') for value in match.groups())
        docs.append({"key": key, "kind": kind, "title": title, "summary": summary, "body": body})
    queries = []
    for match in re.finditer(r'\(' + quoted + r', &\[([^\]]*)\]\)', source):
        queries.append((match.group(1).replace('\\"', '"'), re.findall(r'"(d\d+)"', match.group(2))))
    return docs, queries


def bench_relevance():
    print("relevance", flush=True)
    docs, queries = relevance_set()
    folder = tempfile.mkdtemp(dir=OUT)
    server = Server(folder)
    keys = {}
    for doc in docs:
        work = http("POST", f"{server.address}/api/v1/works", server.token, {k: doc[k] for k in ("kind", "title", "summary", "body")})
        keys[work["id"]] = doc["key"]
    time.sleep(2)
    database = sqlite3.connect(":memory:")
    database.execute("CREATE VIRTUAL TABLE docs USING fts5(key UNINDEXED, title, summary, body, tokenize='trigram')")
    database.executemany("INSERT INTO docs VALUES (?, ?, ?, ?)", [(d["key"], d["title"], d["summary"], d["body"]) for d in docs])
    scores = {"microcat": 0.0, "fts5": 0.0, "like": 0.0}
    for text, expected in queries:
        ours = http("GET", f"{server.address}/api/v1/search?q={urllib.parse.quote(text)}&per_page=10", server.token)
        found = {"microcat": [keys.get(hit["id"]) for hit in ours["hits"]]}
        words = [word.strip('"') for word in text.split() if word.strip('"')]
        match = " AND ".join('"' + word + '"' for word in words)
        try:
            found["fts5"] = [row[0] for row in database.execute("SELECT key FROM docs WHERE docs MATCH ? ORDER BY rank LIMIT 10", (match,))]
        except sqlite3.OperationalError:
            found["fts5"] = []
        where = " AND ".join("(title || summary || body) LIKE ?" for _ in words)
        found["like"] = [row[0] for row in database.execute(f"SELECT key FROM docs WHERE {where} LIMIT 10", [f"%{word}%" for word in words])]
        for engine, keys_found in found.items():
            scores[engine] += len([key for key in keys_found[:10] if key in expected]) / 10
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)
    count = len(queries)
    ours, fts, like = (scores[name] / count for name in ("microcat", "fts5", "like"))
    row(f"precision@10 on the relevance set ({len(docs)} docs, {count} queries)", f"{ours:.3f}", f"FTS5 trigram {fts:.3f}; ILIKE-style substring {like:.3f}",
        f"{ours:.3f} vs {max(fts, like):.3f}", "better than both", ours > fts and ours > like)


def bench_compliance():
    """The compliance check on one core: a 1 MiB Chinese body, a 50 000-term list plus every detector,
    vs a plain aho-corasick scan of the same list alone over the same bytes (interleaved, one process)."""
    print("compliance", flush=True)
    report = json.loads(run([os.path.join(RELEASE, "examples", "compliance_bench")]).stdout.strip().splitlines()[-1])
    ours, peer = report["ours_mb_s"], report["peer_mb_s"]
    ratio = ours / peer
    row(f"compliance check, 1 MiB Chinese body, {report['terms']:,} terms + every detector, 1 core",
        f"{ours:.0f} MB/s ({report['our_findings']} findings)", f"aho-corasick, list alone: {peer:.0f} MB/s ({report['peer_matches']} matches)",
        f"{ratio:.2f}x", ">= 100 MB/s and >= 0.8x", ours >= 100 and ratio >= 0.8)
    row(f"building the automaton for {report['terms']:,} terms", f"{report['build_ms']:.0f} ms", "",
        f"{report['build_ms']:.0f} ms", "<= 200 ms", report["build_ms"] <= 200)


def bench_api():
    print("json api", flush=True)
    folder = tempfile.mkdtemp(dir=OUT)
    server = Server(folder)
    work = http("POST", f"{server.address}/api/v1/works", server.token, {"kind": "weibo_post", "title": "接口基准", "body": "正文" * 200})["id"]
    for n in range(50):
        http("POST", f"{server.address}/api/v1/works", server.token, {"kind": "wechat_article", "title": f"文章 {n}"})
    port = free_port()
    hello = subprocess.Popen([os.path.join(RELEASE, "examples", "hello_actix"), f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    paths = (("GET /api/v1/works/{id}", f"/api/v1/works/{work}"), ("GET /api/v1/works (list page)", "/api/v1/works?per_page=20"))
    api_rows(server, paths, port, 5, "wrk -c 64", True)
    server.stop()
    # The same reads with the read cache off (every request goes to the database), for the record.
    uncached = Server(folder, env={"MICROCAT_READ_CACHE_MS": "0"})
    api_rows(uncached, paths, port, 3, "read cache off", False)
    uncached.stop()
    hello.kill()
    shutil.rmtree(folder, ignore_errors=True)


def api_rows(server, paths, port, runs, label_suffix, judged):
    """One row per path: our requests/s over `wrk -c 64`, interleaved with the hello world on `port`."""
    for label, path in paths:
        ours, peers = [], []
        for _ in range(runs):
            ours.append(wrk(server.address + path, 64, 5, server.token))
            peers.append(wrk(f"http://127.0.0.1:{port}/", 64, 5))
        rps = statistics.median(r[0] for r in ours)
        p99 = statistics.median(r[1] for r in ours)
        peer_rps = statistics.median(r[0] for r in peers)
        met = rps / peer_rps >= 0.3 and p99 <= 20 if judged else None
        row(f"JSON API {label}, {label_suffix}", f"{rps:.0f} req/s, p99 {p99:.1f} ms", f"hello world {peer_rps:.0f} req/s",
            f"{rps/peer_rps:.2f}× its requests/s", "≥ 0.3×; p99 ≤ 20 ms" if judged else "report", met)



def s3_client():
    """boto3 against the bench's Garage: path-style, as microcat talks to it."""
    import boto3
    from botocore.config import Config
    return boto3.client("s3", endpoint_url=os.environ["BENCH_S3_ENDPOINT"], region_name="garage",
                        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


def s3_server_env(prefix):
    return {"MICROCAT_STORAGE_URL": f"s3://{os.environ['BENCH_S3_BUCKET']}/{prefix}", "MICROCAT_S3_ENDPOINT": os.environ["BENCH_S3_ENDPOINT"],
            "MICROCAT_S3_REGION": "garage"}


def empty_prefix(client, prefix):
    bucket = os.environ["BENCH_S3_BUCKET"]
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=bucket, Key=item["Key"])


def bench_s3_upload():
    """A 2 GiB film through microcat into Garage vs boto3's multipart PUT of the same bytes (8 MiB
    parts, its default 10 in flight). Random bytes: Garage compresses, a pattern would flatter both."""
    print("upload to S3", flush=True)
    from boto3.s3.transfer import TransferConfig
    folder = tempfile.mkdtemp(dir=OUT)
    big = os.path.join(folder, "big.mp4")
    with open(big, "wb") as handle:
        handle.write(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomavc1")
        left = UPLOAD_BYTES - 24
        while left > 0:
            handle.write(os.urandom(min(left, 64 * 2**20)))
            left -= 64 * 2**20
    client, bucket = s3_client(), os.environ["BENCH_S3_BUCKET"]
    server = Server(folder, dict(s3_server_env("bench-upload"), MICROCAT_MEDIA_WORKERS="1"))
    work = http("POST", f"{server.address}/api/v1/works", server.token, {"kind": "micro_film", "title": "上传到对象存储"})["id"]
    url = f"{server.address}/api/v1/works/{work}/media"
    _, peak_before = server.memory()
    runs = iter(range(1000))

    def fresh_bytes():
        # The same size, new bytes each run: the store keeps one copy per content.
        with open(big, "r+b") as handle:
            handle.seek(64)
            handle.write(next(runs).to_bytes(8, "big"))

    def ours():
        fresh_bytes()
        elapsed = timed(["curl", "-sf", "-o", "/dev/null", "-H", f"Authorization: Bearer {server.token}", "-F", f"file=@{big}", url])
        empty_prefix(client, "bench-upload/")
        return elapsed

    def peer():
        fresh_bytes()
        config = TransferConfig(multipart_threshold=8 * 2**20, multipart_chunksize=8 * 2**20)
        started = time.perf_counter()
        client.upload_file(big, bucket, "bench-peer/big.mp4", Config=config)
        elapsed = time.perf_counter() - started
        client.delete_object(Bucket=bucket, Key="bench-peer/big.mp4")
        return elapsed

    a, b = interleave(ours, peer, runs=int(os.environ.get("BENCH_S3_RUNS", "2")))
    upload_row(server, peak_before, "film through microcat into Garage", "boto3 multipart PUT", "the direct PUT's throughput", a, b)
    shutil.rmtree(folder, ignore_errors=True)


def nginx_in_front(folder, servers):
    """Debian's nginx with deploy/nginx.conf, its upstream pointed at `servers`; returns (process, address)."""
    port = free_port()
    config = open(os.path.join(ROOT, "deploy", "nginx.conf"), encoding="utf-8").read()
    upstream = "".join(f"    server 127.0.0.1:{server.port} max_fails=1 fail_timeout=5s;\n" for server in servers)
    config = re.sub(r"(    server 10\.0\.0\.\d+:8080 max_fails=1 fail_timeout=5s;\n)+", upstream, config).replace("listen 80;", f"listen 127.0.0.1:{port};")
    wrapped = (f"daemon off;\npid {folder}/nginx.pid;\nerror_log {folder}/nginx-error.log;\nworker_processes auto;\nevents {{ worker_connections 1024; }}\n"
               f"http {{\n  access_log off;\n  client_body_temp_path {folder}/body;\n  proxy_temp_path {folder}/proxy;\n{config}\n}}\n")
    path = os.path.join(folder, "nginx.conf")
    with open(path, "w") as handle:
        handle.write(wrapped)
    process = subprocess.Popen(["nginx", "-c", path, "-p", folder], stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    return process, f"http://127.0.0.1:{port}"


def percentile(values, fraction):
    values = sorted(values)
    return values[max(0, int(round(len(values) * fraction)) - 1)]


def bench_cluster():
    """Three nodes on one PostgreSQL and one Garage bucket: search convergence between nodes, and
    requests/s of one node vs the three behind nginx (on one 2-core machine: overhead, not scale)."""
    print("cluster", flush=True)
    url = os.environ["BENCH_POSTGRES_URL"]
    database = f"bench_cluster_{os.getpid()}"
    run(["psql", "-q", url, "-c", f"CREATE DATABASE {database}"])
    node_url = url.rsplit("/", 1)[0] + "/" + database  # the throwaway server's URL names its `postgres` database
    folder = tempfile.mkdtemp(dir=OUT)
    servers = []
    for index in range(3):
        node = os.path.join(folder, f"node-{index}")
        os.makedirs(node)
        servers.append(Server(node, dict(s3_server_env(f"bench-cluster-{os.getpid()}"), MICROCAT_DATABASE_URL=node_url)))
    a, b = servers[0], servers[1]
    samples = int(os.environ.get("BENCH_CONVERGENCE_SAMPLES", "100"))
    lags = []
    for n in range(samples):
        http("POST", f"{a.address}/api/v1/works", a.token, {"kind": "weibo_post", "title": f"跨节点收敛测试 第{n}条"})
        written = time.perf_counter()
        while http("GET", f"{b.address}/api/v1/search?q=%E6%94%B6%E6%95%9B%E6%B5%8B%E8%AF%95&per_page=1", b.token)["total"] <= n:
            if time.perf_counter() - written > 30:
                raise RuntimeError(f"node B did not find work {n} within 30 s")
            time.sleep(0.005)
        lags.append((time.perf_counter() - written) * 1000)
    row(f"search convergence between nodes ({samples} works written on A, searched on B)",
        f"p50 {percentile(lags, 0.5):.0f} ms, p99 {percentile(lags, 0.99):.0f} ms", "-",
        f"p99 {percentile(lags, 0.99):.0f} ms (commit interval 250 ms)", "≤ 2 000 ms", percentile(lags, 0.99) <= 2000)
    nginx, balancer = nginx_in_front(folder, servers)
    path = "/api/v1/works?per_page=20"
    one = [wrk(a.address + path, 32, 5, a.token) for _ in range(3)]
    three = [wrk(balancer + path, 32, 5, a.token) for _ in range(3)]
    one_rps, three_rps = statistics.median(r[0] for r in one), statistics.median(r[0] for r in three)
    row("GET /api/v1/works, wrk -c 32: one node vs three behind nginx (one 2-core machine)",
        f"three via nginx {three_rps:.0f} req/s, p99 {statistics.median(r[1] for r in three):.1f} ms",
        f"one node {one_rps:.0f} req/s, p99 {statistics.median(r[1] for r in one):.1f} ms", f"{three_rps/one_rps:.2f}×", "report", None)
    nginx.terminate()
    nginx.wait()
    for server in servers:
        server.stop()
    empty_prefix(s3_client(), f"bench-cluster-{os.getpid()}/")
    run(["psql", "-q", url, "-c", f"DROP DATABASE {database} WITH (FORCE)"])
    shutil.rmtree(folder, ignore_errors=True)

def main():
    os.makedirs(OUT, exist_ok=True)
    model, cores = machine()
    print(f"machine: {model}, {cores} cores", flush=True)
    photo, png, film = make_data()
    sections = sys.argv[1:] or ["thumbnails", "poster", "preview", "processing", "upload", "s3upload", "archive", "search", "relevance", "compliance", "api", "cluster"]
    for section in sections:
        {"thumbnails": lambda: bench_thumbnails(photo, png), "poster": lambda: bench_poster(film), "preview": bench_preview, "processing": lambda: bench_processing(film),
         "upload": bench_upload, "archive": bench_archive, "search": bench_search, "relevance": bench_relevance, "compliance": bench_compliance,
         "api": bench_api, "s3upload": bench_s3_upload, "cluster": bench_cluster}[section]()
    peers = [version(["vipsthumbnail", "--version"]), version([CONVERT, "-version"]), version(["ffmpeg", "-version"]),
             version(["wrk", "-v"]), "SQLite " + sqlite3.sqlite_version, version(["psql", "--version"])]
    lines = [f"# microcat benchmarks", "", f"Machine: {model}, {cores} cores. Runs: median of {RUNS} interleaved after a warm-up.", "",
             "Peers: " + "; ".join(peers), "", "| what | ours | peer | result | target | met |", "|---|---|---|---|---|---|"]
    lines += [f"| {' | '.join(cells)} |" for cells in ROWS]
    table = "\n".join(lines) + "\n"
    with open(os.path.join(OUT, "results.md"), "w", encoding="utf-8") as handle:
        handle.write(table)
    print("\n" + table)


if __name__ == "__main__":
    import urllib.parse  # noqa: F401  (used by the search section)
    main()
