#!/usr/bin/env python3
"""Pack the damaged messages as edits of the corpus messages they were made from.

usage: pack.py DAMAGED_DIR CORPUS_DIR OUT_DIR

DAMAGED_DIR holds damaged-checksums.jsonl and the messages it names; CORPUS_DIR is
testdata/corpus. Writes OUT_DIR/checksums.jsonl (the vectors, unchanged) and
OUT_DIR/messages.pack, read by tests/golden_damaged.rs:

    "tally-damaged 1\n", then per vector line, in order:
    name (string), source (string, path under CORPUS_DIR, empty: none),
    number of edits (varint), edits: 0 offset length (copy from the source),
    1 bytes (string: insert)
    where a string is a varint length and the bytes, and a varint is LEB128.
"""
import collections, difflib, json, os, sys


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def string(b):
    return varint(len(b)) + b


def byte_edits(a, a_off, b, ops):
    """Edits turning a (at a_off in the source) into b."""
    p = 0
    while p < min(len(a), len(b)) and a[p] == b[p]:
        p += 1
    s = 0
    while s < min(len(a), len(b)) - p and a[-1 - s] == b[-1 - s]:
        s += 1
    if p:
        ops.append(("copy", a_off, p))
    ma, mb = a[p:len(a) - s], b[p:len(b) - s]
    if mb:
        if ma and len(ma) * len(mb) < 4_000_000:
            sm = difflib.SequenceMatcher(None, ma, mb, autojunk=False)
            for op, i1, i2, j1, j2 in sm.get_opcodes():
                if op == "equal":
                    ops.append(("copy", a_off + p + i1, i2 - i1))
                elif j2 > j1:
                    ops.append(("insert", mb[j1:j2]))
        else:
            ops.append(("insert", mb))
    if s:
        ops.append(("copy", a_off + len(a) - s, s))


def edits(src, dmg):
    al, bl = src.splitlines(True), dmg.splitlines(True)
    starts = [0]
    for line in al:
        starts.append(starts[-1] + len(line))
    ops = []
    sm = difflib.SequenceMatcher(None, al, bl, autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            ops.append(("copy", starts[i1], starts[i2] - starts[i1]))
        else:
            byte_edits(src[starts[i1]:starts[i2]], starts[i1], b"".join(bl[j1:j2]), ops)
    merged = []
    for o in ops:
        if o[0] == "copy" and o[2] == 0:
            continue
        if merged and o[0] == "copy" and merged[-1][0] == "copy" \
                and merged[-1][1] + merged[-1][2] == o[1]:
            merged[-1] = ("copy", merged[-1][1], merged[-1][2] + o[2])
        elif merged and o[0] == "insert" and merged[-1][0] == "insert":
            merged[-1] = ("insert", merged[-1][1] + o[1])
        else:
            merged.append(o)
    return merged


def apply(src, ops):
    return b"".join(src[o[1]:o[1] + o[2]] if o[0] == "copy" else o[1] for o in ops)


def encode(ops):
    out = varint(len(ops))
    for o in ops:
        out += (b"\0" + varint(o[1]) + varint(o[2])) if o[0] == "copy" else (b"\1" + string(o[1]))
    return out


def main():
    dmg_dir, corpus, out_dir = sys.argv[1:4]
    files = []
    for d, _, fs in os.walk(corpus):
        for f in fs:
            if not f.endswith((".tsv", ".md")):
                files.append(os.path.relpath(os.path.join(d, f), corpus))
    files.sort()
    data = {f: open(os.path.join(corpus, f), "rb").read() for f in files}
    index = collections.defaultdict(set)
    for f, b in data.items():
        for line in set(b.split(b"\n")):
            index[line].add(f)
    vectors = open(os.path.join(dmg_dir, "damaged-checksums.jsonl"), "rb").read()
    pack = bytearray(b"tally-damaged 1\n")
    whole = 0
    for line in vectors.splitlines():
        if not line.strip():
            continue
        name = json.loads(line)["file"]
        dmg = open(os.path.join(dmg_dir, name), "rb").read()
        score = collections.Counter()
        for l in set(dmg.split(b"\n")):
            fs = index.get(l, ())
            if 0 < len(fs) < 50:
                for f in fs:
                    score[f] += len(l) + 1
        best = (string(b"") + varint(1) + b"\1" + string(dmg), "")
        for f, _ in sorted(score.items(), key=lambda kv: (-kv[1], kv[0]))[:3]:
            ops = edits(data[f], dmg)
            assert apply(data[f], ops) == dmg, name
            enc = string(f.encode()) + encode(ops)
            if len(enc) < len(best[0]):
                best = (enc, f)
        whole += best[1] == ""
        pack += string(name.encode()) + best[0]
    open(os.path.join(out_dir, "messages.pack"), "wb").write(pack)
    open(os.path.join(out_dir, "checksums.jsonl"), "wb").write(vectors)
    print(f"{len(pack)} bytes, {whole} messages stored whole")


main()
