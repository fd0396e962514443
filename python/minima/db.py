"""Results databases (`minima sweep --db`, the experiments' --db) as tables."""
import json
import os
import sqlite3

import numpy as np


def read_db(path, frame=None):
    """One row per run: its setting's canonical string (canon) and options
    (each as a column opt_<key>), then every column of the runs table
    (include/minima/sweep.h), theta as a float64 array or None. A pandas
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
            opts = json.loads(d.pop("options"))
            row = {"canon": d.pop("canon")}
            row.update({f"opt_{k}": v for k, v in opts.items()})
            row.update(d)
            if row.get("theta") is not None:
                row["theta"] = np.frombuffer(row["theta"], dtype=np.float64).copy()
            rows.append(row)
    finally:
        con.close()
    if frame is False:
        return rows
    try:
        import pandas
    except ImportError:
        if frame:
            raise
        return rows
    return pandas.DataFrame(rows)
