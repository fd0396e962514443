"""Results databases (`minima sweep --db`, the experiments' --db) as tables."""
import json
import math
import os
import sqlite3

import numpy as np


def _against_best(rows):
    """best_loss and summary_class of each row (see read_db)."""
    from ._lib import check, cstr, ffi, lib
    names = {cstr(lib.mn_class_name(c)): c for c in range(lib.MN_CLASS_SPURIOUS_VS_BEST + 1)}
    best, tol = {}, {}
    for r in rows:
        x = r.get("loss")
        if x is not None and math.isfinite(x):
            best[r["setting"]] = min(x, best.get(r["setting"], math.inf))
    for r in rows:
        s = r["setting"]
        r["best_loss"] = best.get(s, math.nan)
        r["summary_class"] = r["class"]
        if r["class"] != "minimum" or s not in best:
            continue
        if s not in tol:
            co = ffi.new("mn_cert_opts *")
            check(lib.mn_setting_cert_opts(co, r["options_json"].encode()))
            tol[s] = co.global_tol
        c = lib.mn_class_vs_best(names["minimum"], r["loss"], best[s], tol[s])
        r["summary_class"] = cstr(lib.mn_class_name(c))
    for r in rows:
        r.pop("options_json")


def read_db(path, frame=None):
    """One row per run: its setting's canonical string (canon) and options
    (each as a column opt_<key>), then every column of the runs table
    (include/minima/sweep.h), theta as a float64 array or None; then the
    summary's view (what `minima summary` and `export` count): best_loss, the
    lowest finite loss of the setting's runs (the best found, not a proven
    global value), and summary_class, the class with a certified minimum of
    unknown global value ("minimum") split into "best-found" and "spurious
    (vs best found)" against it (the library's mn_class_vs_best). A pandas
    DataFrame when pandas is installed (frame=None) or frame=True; a list of
    dicts when it is not, or with frame=False."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"read_db: no database at '{path}'")
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        con.row_factory = sqlite3.Row
        try:
            cur = con.execute("SELECT s.canon AS canon, s.options AS options, r.* FROM runs r "
                              "JOIN settings s ON s.id = r.setting ORDER BY r.setting, r.restart")
        except sqlite3.DatabaseError as e:
            raise ValueError(f"read_db: '{path}' is not a minima results database ({e})") from None
        rows = []
        for r in cur:
            d = dict(r)
            text = d.pop("options")
            opts = json.loads(text)
            row = {"canon": d.pop("canon"), "options_json": text}
            row.update({f"opt_{k}": v for k, v in opts.items()})
            row.update(d)
            if row.get("theta") is not None:
                row["theta"] = np.frombuffer(row["theta"], dtype=np.float64).copy()
            rows.append(row)
    finally:
        con.close()
    _against_best(rows)
    if frame is False:
        return rows
    try:
        import pandas
    except ImportError:
        if frame:
            raise
        return rows
    return pandas.DataFrame(rows)
