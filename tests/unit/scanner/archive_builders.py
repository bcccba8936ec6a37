"""Zip and tar archives built in memory from (name, bytes) members, for the
scanner's test corpora (make_corpus.py here, tests/scanner_attacks/)."""
import io
import tarfile
import zipfile


def zip_of(members, method=zipfile.ZIP_STORED):
    """Members in order, as given: duplicate names and names ending in '/'
    are written with their data like any other."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in members:  # a fixed date: the same bytes every run
            z.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), data, compress_type=method)
    return buf.getvalue()


def tar_of(members, fmt=tarfile.PAX_FORMAT, encoding="utf-8"):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt, encoding=encoding) as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()
