"""Which Debian packages a bundle loads libraries from, against the .deb's declared dependencies.

    python3 packaging/check_depends.py BUNDLE_DIR packaging/deb/depends

For every ELF file of the bundle, the libraries it names (DT_NEEDED, read with objdump) that the
bundle does not carry are looked up on this machine (ldd, then dpkg -S). A package that is not
declared is reported (and the exit status is 1) when the library is needed by the application's
own code or by Qt's xcb platform; one needed only by an optional Qt plugin (another platform, a
GTK theme, ...) is listed as a note: Qt skips a plugin it cannot load.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

# Qt plugin folders that the application does not need on an X11 or Wayland desktop with the
# libraries declared: Qt loads them only when asked and skips them when they cannot load.
OPTIONAL = ("platformthemes", "wayland", "Wayland", "egldeviceintegrations", "EglFs", "platforminputcontexts",
            "libqeglfs", "libqlinuxfb", "libqvnc", "libqvkkhrdisplay", "libqminimalegl", "sqldrivers", "tls",
            "networkinformation", "printsupport", "generic", "qmltooling", "designer")
ALWAYS_THERE = ("ld-linux", "linux-vdso")  # the dynamic loader (libc6) and the kernel's


def guessed_package(soname: str) -> str:
    """Debian's naming rule for a library package (libxcb-icccm.so.4 -> libxcb-icccm4), for a
    library that is not installed on this machine."""
    m = re.fullmatch(r"(.+?)\.so\.(\d+)(?:\..*)?", soname)
    if not m:
        return ""
    name, major = m.group(1).lower(), m.group(2)
    return f"{name}-{major}" if name[-1].isdigit() else f"{name}{major}"


def is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(4) == b"\x7fELF"
    except OSError:
        return False


def needed(path: Path) -> list[str]:
    out = subprocess.run(["objdump", "-p", str(path)], capture_output=True, text=True, check=False).stdout
    return re.findall(r"^\s*NEEDED\s+(\S+)", out, flags=re.MULTILINE)


def resolved(path: Path) -> dict[str, str]:
    """soname -> path on this machine ('' when not found), as ldd resolves them for ``path``."""
    out = subprocess.run(["ldd", str(path)], capture_output=True, text=True, check=False).stdout
    found = {}
    for line in out.splitlines():
        m = re.match(r"\s*(\S+) => (not found|(\S+))", line)
        if m:
            found[m.group(1)] = m.group(3) or ""
    return found


def package_of(lib: str, cache: dict[str, str]) -> str:
    if lib not in cache:
        real = str(Path(lib).resolve())
        name = ""
        for candidate in dict.fromkeys((lib, real, real.replace("/usr/lib/", "/lib/"), lib.replace("/lib/", "/usr/lib/", 1))):
            out = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True, check=False)
            if out.returncode == 0:
                name = out.stdout.split(":")[0].strip()
                break
        cache[lib] = name
    return cache[lib]


def main(argv: list[str]) -> int:
    bundle, depends_file = Path(argv[0]), Path(argv[1])
    declared = {line.split("#")[0].strip() for line in depends_file.read_text().splitlines()}
    declared = {d.split(":")[0] for d in declared if d}
    files = [p for p in sorted(bundle.rglob("*")) if p.is_file() and not p.is_symlink() and is_elf(p)]
    carried = {p.name for p in bundle.rglob("*")}
    cache: dict[str, str] = {}
    problems: dict[str, set[str]] = {}
    notes: dict[str, set[str]] = {}
    for path in files:
        wanted = [n for n in needed(path) if n not in carried and not n.startswith(ALWAYS_THERE)]
        if not wanted:
            continue
        where = resolved(path)
        rel = str(path.relative_to(bundle))
        optional = any(part in rel for part in OPTIONAL)
        for soname in wanted:
            lib = where.get(soname, "")
            pkg = package_of(lib, cache) if lib else ""
            if (pkg and pkg.split(":")[0] in declared) or (not pkg and guessed_package(soname) in declared):
                continue
            key = f"{soname} ({pkg or 'not on this machine'})"
            (notes if optional else problems).setdefault(key, set()).add(rel)
    for title, found in (("undeclared", problems), ("optional plugins only", notes)):
        for key, users in sorted(found.items()):
            more = f" and {len(users) - 1} more" if len(users) > 1 else ""
            print(f"check_depends: {title}: {key}, needed by {sorted(users)[0]}{more}")
    print(f"check_depends: {len(files)} ELF files; {len(problems)} undeclared, "
          f"{len(notes)} for optional plugins only")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
