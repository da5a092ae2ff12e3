#!/usr/bin/env python3
"""Counts the frames of a SQLite WAL per commit and per table/index.
usage: wal-pages.py DB WAL [STEP]
Frames are named by the b-tree that owns their page, read with dbstat from
the database as it was STEP commits later (a copy of DB and the WAL cut
there), since freed pages change owners."""
import collections, os, shutil, sqlite3, struct, sys, tempfile
db, wal = sys.argv[1], sys.argv[2]
step = int(sys.argv[3]) if len(sys.argv) > 3 else 50
data = open(wal, 'rb').read()
psize = struct.unpack('>I', data[8:12])[0]
salts = struct.unpack('>II', data[16:24])
commits, frames = [], []   # commits: offset just past each commit frame
off = 32
while off + 24 + psize <= len(data):
    pg, size, f1, f2 = struct.unpack('>IIII', data[off:off + 16])
    if (f1, f2) != salts:
        break
    frames.append((pg, len(commits)))
    off += 24 + psize
    if size:
        commits.append(off)
tmp = tempfile.mkdtemp()
def owners(upto):
    base = os.path.join(tmp, 's.db')
    for suffix in ('-wal', '-shm'):
        if os.path.exists(base + suffix):
            os.remove(base + suffix)
    shutil.copy(db, base)
    open(base + '-wal', 'wb').write(data[:commits[upto]])
    con = sqlite3.connect(base)
    found = {p: n for n, p in con.execute('select name, pageno from dbstat')}
    con.close()
    return found
counts, names, window = collections.Counter(), {}, -1
for pg, commit in frames:
    if commit >= len(commits):
        break
    if commit // step != window:
        window = commit // step
        names = owners(min(len(commits) - 1, (window + 1) * step - 1))
    counts[names.get(pg, 'freelist')] += 1
total, n = sum(counts.values()), len(commits)
print('commits %d frames %d frames/commit %.1f' % (n, total, total / max(n, 1)))
for name, c in counts.most_common():
    print('%-34s %7d %5.1f%% %6.2f/commit' % (name, c, 100.0 * c / total, c / max(n, 1)))
shutil.rmtree(tmp)
