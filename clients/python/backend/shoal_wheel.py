"""A PEP 517 build backend in the source tree, so `pip install ./clients/python` works offline.

pip builds a package in an isolated environment and first installs its build requirements from
a package index; setuptools from PyPI is out of reach on a machine with no internet, and
Debian's setuptools is hidden inside that environment. A pure-Python package needs nothing but a
zip file with the right names in it, so this backend writes the wheel itself: the package's
.py files, METADATA, WHEEL and RECORD (PEP 427, PEP 566). It needs no build requirement.
"""
import base64
import hashlib
import os
import re
import tarfile
import io
import tomllib
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _pyproject():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)


def _project():
    return _pyproject()["project"]


def _dist_name(name):
    # PEP 503 normalisation, then "_" for the separators (the wheel file name rules).
    return re.sub(r"[-_.]+", "_", name).lower()


def _metadata(project):
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
        f"Summary: {project.get('description', '')}",
        f"Requires-Python: {project.get('requires-python', '>=3.11')}",
    ]
    lines += [f"Requires-Dist: {d}" for d in project.get("dependencies", [])]
    for extra, deps in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {d}; extra == "{extra}"' for d in deps]
    readme = os.path.join(ROOT, project.get("readme", "README.md"))
    body = open(readme, encoding="utf-8").read() if os.path.exists(readme) else ""
    return "\n".join(lines) + "\nDescription-Content-Type: text/markdown\n\n" + body


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def _write_wheel(wheel_directory, files):
    project = _project()
    name, version = _dist_name(project["name"]), project["version"]
    info = f"{name}-{version}.dist-info"
    files = dict(files)
    files[f"{info}/METADATA"] = _metadata(project).encode()
    files[f"{info}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: shoal_wheel\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    ).encode()
    record = [_record_line(p, d) for p, d in sorted(files.items())] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = f"{name}-{version}-py3-none-any.whl"
    # Fixed timestamps and order (the .dist-info last, as the wheel spec advises): the same
    # sources give the same wheel bytes.
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel), "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(files, key=lambda p: (p.startswith(info + "/"), p)):
            entry = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
            entry.external_attr = 0o644 << 16
            z.writestr(entry, files[path], zipfile.ZIP_DEFLATED)
    return wheel


def _package_files():
    files = {}
    for package in _pyproject()["tool"]["shoal_wheel"]["packages"]:
        top = os.path.join(ROOT, package)
        for directory, _, names in os.walk(top):
            for n in sorted(names):
                if n.endswith((".py", ".typed")):
                    full = os.path.join(directory, n)
                    files[os.path.relpath(full, ROOT).replace(os.sep, "/")] = open(full, "rb").read()
    return files


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _write_wheel(wheel_directory, _package_files())


def get_requires_for_build_sdist(config_settings=None):
    return []


def build_sdist(sdist_directory, config_settings=None):
    project = _project()
    base = f"{_dist_name(project['name'])}-{project['version']}"
    files = dict(_package_files())
    for extra in ("pyproject.toml", "README.md", "backend/shoal_wheel.py"):
        files[extra] = open(os.path.join(ROOT, extra), "rb").read()
    files["PKG-INFO"] = _metadata(project).encode()
    name = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(files):
            info = tarfile.TarInfo(f"{base}/{path}")
            info.size, info.mode, info.mtime = len(files[path]), 0o644, 0
            tar.addfile(info, io.BytesIO(files[path]))
    return name


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    # A .pth file puts the source tree on sys.path: edits take effect without reinstalling.
    return _write_wheel(wheel_directory, {f"{_dist_name(_project()['name'])}.pth": (ROOT + "\n").encode()})
