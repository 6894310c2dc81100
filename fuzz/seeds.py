#!/usr/bin/env python3
"""Write starting inputs for every fuzz target from the repository's test data.

usage: fuzz/seeds.py OUT_DIR

OUT_DIR/<target>/ gets one file per seed, in the input layout each target
reads (see the comments at the top of fuzz/fuzz_targets/*.rs): a leading mode
or cut byte where the target takes one, milter events encoded as
(command, length, bytes) for dccm_connection, datagrams from the recorded
wire vectors for the packet targets. Only the repository is read, so a fresh
clone can start a long run (scripts/fuzz-long.sh) from the same seeds.
"""
import glob, hashlib, json, os, struct, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rel(*p):
    return os.path.join(ROOT, *p)


def read(path):
    with open(path, "rb") as f:
        return f.read()


class Seeds:
    def __init__(self, out):
        self.out = out
        self.count = {}

    def add(self, target, data, limit=65536):
        if not data or len(data) > limit:
            return
        d = os.path.join(self.out, target)
        os.makedirs(d, exist_ok=True)
        name = hashlib.sha1(data).hexdigest()
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        self.count[target] = self.count.get(target, 0) + 1


def varint(b, i):
    n = shift = 0
    while True:
        c = b[i]
        i += 1
        n |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return n, i


def string(b, i):
    n, i = varint(b, i)
    return b[i:i + n], i + n


def damaged_messages():
    """The damaged messages, rebuilt from messages.pack (see its pack.py)."""
    pack = read(rel("crates/ck/tests/data/damaged/messages.pack"))
    magic = b"tally-damaged 1\n"
    assert pack.startswith(magic)
    i = len(magic)
    out = []
    while i < len(pack):
        _name, i = string(pack, i)
        source, i = string(pack, i)
        src = read(rel("testdata/corpus", source.decode())) if source else b""
        edits, i = varint(pack, i)
        msg = bytearray()
        for _ in range(edits):
            kind, i = varint(pack, i)
            if kind == 0:
                off, i = varint(pack, i)
                ln, i = varint(pack, i)
                msg += src[off:off + ln]
            else:
                s, i = string(pack, i)
                msg += s
        out.append(bytes(msg))
    return out


def corpus_messages():
    files = sorted(glob.glob(rel("testdata/corpus/messages/**/*"), recursive=True))
    files += sorted(glob.glob(rel("crates/dccm/tests/data/msgs/**/*"), recursive=True))
    return [read(f) for f in files if os.path.isfile(f) and not f.endswith((".tsv", ".md"))]


def wire_vectors():
    out = []
    for path in glob.glob(rel("crates/*/tests/data/**/*.json"), recursive=True):
        try:
            doc = json.loads(read(path))
        except ValueError:
            continue
        stack = [doc]
        while stack:
            v = stack.pop()
            if isinstance(v, dict):
                for k, x in v.items():
                    if isinstance(x, str) and k.endswith("_hex"):
                        try:
                            out.append((k, bytes.fromhex(x)))
                        except ValueError:
                            pass
                    else:
                        stack.append(x)
            elif isinstance(v, list):
                stack.extend(v)
    for path in glob.glob(rel("crates/dccifd/tests/data/**/*.bin"), recursive=True):
        out.append(("file", read(path)))
    return out


def milter_events(msg):
    """A message as dccm_connection's (command, length, bytes) events."""
    ev = bytearray()

    def put(cmd, arg):
        for k in range(0, max(len(arg), 1), 255):
            piece = arg[k:k + 255]
            ev.extend([cmd, len(piece)])
            ev.extend(piece)

    put(0, b"192.0.2.7")
    put(1, b"mail.example.net")
    put(2, b"<sender@example.net>")
    put(3, b"<user@example.com>")
    head, _, body = msg.replace(b"\r\n", b"\n").partition(b"\n\n")
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") or b":" not in line:
            continue
        put(4, line[:255])
    put(5, b"")
    put(6, body[:4000])
    put(7, b"\x00\x01")
    return bytes(ev)


def main():
    s = Seeds(sys.argv[1])
    msgs = corpus_messages()
    damaged = damaged_messages()
    for n, m in enumerate(msgs + damaged[:600]):
        s.add("message", bytes([n % 256]) + m)
    # kernels: [mode, cut] + bytes (fuzz_targets/kernels.rs): whole
    # messages (odd modes), and their bodies framed by the target as an
    # entity of every kind (even modes), fed whole or in pieces
    for n, m in enumerate(msgs + damaged[:200]):
        cut = (0, 1, 7, 64, 200)[n % 5]
        s.add("kernels", bytes([1, cut]) + m)
        body = m.replace(b"\r\n", b"\n").partition(b"\n\n")[2]
        if body:
            s.add("kernels", bytes([(2 * n) % 256, cut]) + body)
    for m in msgs + damaged[:100]:
        s.add("dccm_connection", milter_events(m))
        head = m.replace(b"\r\n", b"\n").split(b"\n\n")[0]
        for line in head.split(b"\n")[:40]:
            s.add("header_parsers", line)
            s.add("str_sum", line)
    for f in glob.glob(rel("crates/dccifd/tests/data/**/request*"), recursive=True):
        s.add("dccifd_request", read(f))
    for m in msgs[:20]:
        s.add("dccifd_request", b"header\n192.0.2.7\r\nhelo.example\nsender@example.net\nuser@example.com\n\n" + m)
    for f in glob.glob(rel("crates/white/tests/data/**/*"), recursive=True):
        if os.path.isfile(f):
            s.add("whiteclnt", read(f))
    for f in glob.glob(rel("crates/*/tests/data/**/whiteclnt*"), recursive=True):
        if os.path.isfile(f):
            s.add("whiteclnt", read(f))
    for key, pkt in wire_vectors():
        s.add("wire", pkt, 1500)
        for mode in (0, 1, 3):
            s.add("dccd_request", bytes([mode]) + pkt, 1501)
            s.add("dccd_grey_request", bytes([mode]) + pkt, 1501)
        if len(pkt) > 20:
            s.add("dnsbl_reply", pkt[:512])
    for f in glob.glob(rel("crates/*/tests/data/flood/*.hex")):
        try:
            s.add("flood_stream", bytes.fromhex("".join(read(f).decode().split())))
        except ValueError:
            pass
    for f in glob.glob(rel("crates/client/tests/data/*.txt")):
        s.add("config", read(f))
    for t in (b"body,20,many", b"fuz2,log,50", b"all,never", b"CMN,10", b"dcc,5,1000"):
        s.add("config", t)
    for f in glob.glob(rel("crates/*/tests/data/**/*"), recursive=True):
        if os.path.isfile(f) and os.path.getsize(f) < 20000:
            for line in read(f).split(b"\n"):
                if b"-B" in line or b"dnsbl" in line.lower():
                    s.add("dnsbl_option", line.strip()[:300])
    for t in (b"set:rej-msg=bad %s", b"dnsbl.example,127.0.0.2", b"set:group=2", b"set:no-client",
              b"set:defaults", b"set:msg-secs=5", b"name:bl.example,127.0.0.0/24", b"IPv6:on"):
        s.add("dnsbl_option", t)
    # a DNS answer: one A record 127.0.0.2 for 2.0.0.127.bl.example
    q = b"\x012\x010\x010\x03127\x02bl\x07example\x00\x00\x01\x00\x01"
    s.add("dnsbl_reply", b"\x12\x34\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00" + q
          + b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x7f\x00\x00\x02")
    for t in (b"accept\n", b"same\n", b"discard\r\n", b"reject 550 5.7.1 no thanks\n",
              b"tempfail 451 4.7.1 try again later\n", b"REJECT\t554  5.7.9 x\n", b"maybe\n"):
        s.add("xfltr_answer", t)
    # dcc_conf: the package's default, a migrated site's file, and each of its lines alone
    for f in [rel("packaging/dcc_conf")] + glob.glob(rel("crates/ops/tests/data/*")):
        if os.path.isfile(f):
            s.add("dcc_conf", read(f))
            for line in read(f).split(b"\n"):
                s.add("dcc_conf", line)
    for t in (b'GREY_CLIENT_ARGS=on\nGREY_SRVR_ID=\n', b'A="$B ${C:-d} ${E:=f}"\nexport G=$A\n',
              b'if test -n "$DCC_INFO_LOG_FACILITY"; then\n  DCC_LOG_ARGS="-L info"\nfi\n',
              b'DCCM_ARGS="-G \'-r5.7.1 550 %s\' \\\n -SHELO"\nDCCM_LOGDIR="D?log"\n'):
        s.add("dcc_conf", t)
    # dccd's blacklist file: every kind of line, and a few bad ones
    s.add("dccd_blacklist", b"# clients to ignore\n192.0.2.0/24\nok,trace 192.0.2.7\n"
          b"no-anon 2001:db8:1::/48\nbad,flood-ok 10.0.0.1-10.0.0.9\n\n")
    for t in (b"trace,ok,bad 127.0.0.1\n", b"NO_ANON\t::ffff:10.0.0.0/112 # mapped\n",
              b"10.0.0.0/8\nmail.example\n10.0.0.1/24\n", b"::1-::ffff:10.0.0.5\nok 10.0.0.2\n",
              b"192.0.2.1\n" + b" " * 200 + b"192.0.2.2\n", b"192.0.2.3"):
        s.add("dccd_blacklist", t)
    for t in sorted(s.count):
        print(f"{t}: {s.count[t]} seeds")


if __name__ == "__main__":
    main()
